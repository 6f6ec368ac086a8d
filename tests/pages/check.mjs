// Opens each page in headless Chromium (Debian's `chromium`), checks what
// it shows, runs axe-core's WCAG 2.1 A/AA rules on it, checks that it
// fits a phone's width, and writes a screenshot. Run by
// tests/tests/pages.rs:
//
//   node check.mjs <pages.json> <screenshot dir>
//
// pages.json: [{"name", "url", "expect": [text...], "forbid": [text...]}]
// Prints one JSON array: per page its HTTP status, the expected texts it
// lacks, the forbidden texts it shows, axe's violations, and whether it
// overflows a 390 px wide screen.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [pagesFile, shots] = process.argv.slice(2);
const pages = JSON.parse(readFileSync(pagesFile, 'utf8'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const results = [];
try {
  for (const spec of pages) {
    const page = await browser.newPage();
    // The pages forbid every script; axe is a script the test injects.
    await page.setBypassCSP(true);
    await page.setViewport({ width: 1024, height: 900 });
    const response = await page.goto(spec.url, { waitUntil: 'load' });
    const text = await page.evaluate(() => document.body.innerText);
    const html = await page.content();
    await page.addScriptTag({ content: axeSource });
    const axe = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
    await page.screenshot({ path: join(shots, `${spec.name}.png`), fullPage: true });
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    const overflows = await page.evaluate(
      () => document.documentElement.scrollWidth > window.innerWidth + 1);
    await page.screenshot({ path: join(shots, `${spec.name}-phone.png`), fullPage: true });
    results.push({
      name: spec.name,
      status: response.status(),
      contentType: response.headers()['content-type'] || '',
      missing: (spec.expect || []).filter((t) => !text.includes(t)),
      forbiddenShown: (spec.forbid || []).filter((t) => html.includes(t)),
      violations: axe.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
      })),
      overflowsPhone: overflows,
    });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
