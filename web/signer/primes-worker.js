// A Web Worker that makes one set of Paillier safe primes for an ECDSA key generation (minutes
// of work in WebAssembly, kept off the page's thread) and posts them (JSON) to the page.

import init, { generatePrimes } from "/signer/wasm/mpcw_device_wasm.js";

await init();
postMessage(generatePrimes());
