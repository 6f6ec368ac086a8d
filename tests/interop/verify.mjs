// Independent verification of one of our credentials with the Digital
// Bazaar stack (@digitalbazaar/vc + data-integrity + eddsa-rdfc-2022).
//
//   node verify.mjs <credential.json> <documents.json>
//
// documents.json is an object of {url: document}: the issuer's DID document
// (under the DID, no fragment) and its verification methods (under their
// full ids, each with an `@context`), as fetched from the server by the test.
// JSON-LD contexts are read from crates/credentials/contexts, the files the
// server signs with. Nothing is fetched from the network: any other URL is
// refused.
//
// A credential with a `credentialStatus` (BitstringStatusListEntry) is
// checked with @digitalbazaar/vc-bitstring-status-list: its status list
// credential must be in documents.json too, is verified with the same
// suite, must have the credential's issuer, and a set bit means the
// credential is not verified (revoked).
//
// The proof purpose is the stack's own CredentialIssuancePurpose: the
// verification method's controller document must list it under
// `assertionMethod`, and the controller's id must be the credential's
// `issuer` id.
//
// Prints the verification result as JSON. Exit status: 0 verified,
// 1 not verified, 2 usage or setup error.

import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';

const here = dirname(fileURLToPath(import.meta.url));
const contextDir = join(here, '..', '..', 'crates', 'credentials', 'contexts');

// The IRIs the published contexts are known by, and the files under
// crates/credentials/contexts holding their published bytes. Kept here on
// purpose rather than read from the server's code: an independent verifier
// names the documents itself.
const CONTEXTS = {
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context.json':
    'ob-v3p0-context-3.0.0.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json':
    'ob-v3p0-context-3.0.1.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json':
    'ob-v3p0-context-3.0.2.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json':
    'ob-v3p0-context-3.0.3.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json':
    'ob-v3p0-extensions.json',
  'https://w3id.org/security/data-integrity/v1': 'data-integrity-v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/did/v1': 'did-v1.jsonld',
  'https://www.w3.org/ns/credentials/status/v1':
    'vc-bitstring-status-list-v1.jsonld',
  'https://w3id.org/vc/status-list/2021/v1': 'vc-status-list-2021-v1.jsonld',
};

class SetupError extends Error {}

function readJson(path, what) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch(e) {
    throw new SetupError(`cannot read ${what} ${path}: ${e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new SetupError(`${what} ${path} is not JSON: ${e.message}`);
  }
}

// Errors do not serialise to JSON by themselves; keep what explains them.
function plain(value, seen = new WeakSet()) {
  if(value instanceof Error) {
    const out = {name: value.name, message: value.message};
    for(const key of ['errors', 'cause', 'details']) {
      if(value[key] !== undefined) {
        out[key] = plain(value[key], seen);
      }
    }
    return out;
  }
  if(Array.isArray(value)) {
    return value.map(v => plain(v, seen));
  }
  if(value && typeof value === 'object') {
    if(seen.has(value)) {
      return '[circular]';
    }
    seen.add(value);
    const out = {};
    for(const [k, v] of Object.entries(value)) {
      out[k] = plain(v, seen);
    }
    return out;
  }
  return value;
}

function main(argv) {
  if(argv.length !== 2 || argv.some(arg => arg.startsWith('--'))) {
    throw new SetupError('usage: node verify.mjs <credential.json> <documents.json>');
  }
  const [credentialPath, documentsPath] = argv;
  const credential = readJson(credentialPath, 'credential');
  const extra = readJson(documentsPath, 'documents');
  if(!extra || typeof extra !== 'object' || Array.isArray(extra)) {
    throw new SetupError(
      `${documentsPath} must be a JSON object of {url: document}`);
  }

  const documents = new Map();
  for(const [iri, file] of Object.entries(CONTEXTS)) {
    documents.set(iri, readJson(join(contextDir, file), 'context'));
  }
  for(const [url, document] of Object.entries(extra)) {
    if(documents.has(url)) {
      throw new SetupError(`${documentsPath} redefines the context ${url}`);
    }
    documents.set(url, document);
  }

  const refused = [];
  const documentLoader = async url => {
    if(documents.has(url)) {
      // A copy, so that nothing the library does to it leaks into the next
      // load.
      return {
        contextUrl: null,
        documentUrl: url,
        document: structuredClone(documents.get(url)),
      };
    }
    refused.push(url);
    throw new Error(`refusing to fetch ${url}`);
  };
  return {credential, documentLoader, refused};
}

let setup;
try {
  setup = main(process.argv.slice(2));
} catch(e) {
  console.error(e instanceof SetupError ? e.message : e.stack);
  process.exit(2);
}

const {credential, documentLoader, refused} = setup;
let result;
try {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  // Without `purpose`, verifyCredential uses CredentialIssuancePurpose.
  result = await vc.verifyCredential(
    {credential, suite, documentLoader, checkStatus});
} catch(e) {
  // verifyCredential reports failures in its result; a throw is a bug or a
  // broken installation.
  console.error(`verification threw: ${e.stack}`);
  process.exit(2);
}

// checkStatus reports the bit, not a verdict: a set bit is a revocation.
const statusBits = ((result.statusResult || {}).results || []).map(
  ({credentialStatus, status}) => ({
    statusListCredential: credentialStatus.statusListCredential,
    statusListIndex: credentialStatus.statusListIndex,
    statusPurpose: credentialStatus.statusPurpose,
    set: status === true,
  }));
const statusSet = statusBits.some(bit => bit.set);

// `results[].credential` and `verificationMethod` repeat the input.
const report = plain({
  verified: result.verified === true && !statusSet,
  status: statusBits,
  statusError: (result.statusResult || {}).error,
  statusSet,
  purpose: 'credential-issuance',
  error: result.error,
  results: (result.results || []).map(
    ({verified, error, purposeResult, proof}) =>
      ({verified, error, purposeResult, proof})),
  refused,
});
console.log(JSON.stringify(report, null, 2));
process.exit(report.verified ? 0 : 1);
