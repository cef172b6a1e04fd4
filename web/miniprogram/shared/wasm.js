// The device party's WebAssembly in a mini-program. WeChat runs WebAssembly only through
// `WXWebAssembly.instantiate(path, imports)`, with `path` a `.wasm` or `.wasm.br` (Brotli)
// file in the code package; the bindings (wasm-bindgen, `--target web`) call the standard
// `WebAssembly.instantiate`. This shim gives the bindings a `WebAssembly` whose `instantiate`
// takes a package path and asks the platform's loader, so the 2 MB module ships as a 0.45 MB
// `.wasm.br` inside the 2 MB main-package limit.

import init, * as bindings from "../wasm/mpcw_device_wasm.js";

/** The packaged module (scripts/web.sh writes it). */
export const WASM_PATH = "/lib/wasm/mpcw_device_wasm_bg.wasm.br";

/** A path in the code package (not a URL: the bindings would try to fetch one). */
class PackagePath {
  constructor(path) {
    this.path = path;
  }
}

/**
 * Load the bindings through `loader` (WeChat's `WXWebAssembly`, or any object with an
 * `instantiate(path, imports)` that resolves to `{ instance }` or to the instance itself).
 */
export async function loadWasm(loader, path = WASM_PATH) {
  if (!loader?.instantiate) throw new Error("this platform runs no WebAssembly");
  const standard = globalThis.WebAssembly;
  // Whatever else the runtime's WebAssembly has stays reachable (others may use it meanwhile).
  globalThis.WebAssembly = Object.assign(Object.create(standard ?? null), {
    // Nothing the platform returns is one of these: the bindings then take `{ instance }`.
    Instance: class {},
    Module: class {},
    instantiate: async (source, imports) => {
      const made = await loader.instantiate(source.path, imports);
      return made.instance ? { instance: made.instance, module: made.module } : { instance: made, module: undefined };
    },
  });
  try {
    await init({ module_or_path: new PackagePath(path) });
  } finally {
    if (standard) globalThis.WebAssembly = standard;
  }
  return bindings;
}
