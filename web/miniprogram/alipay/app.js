// The Alipay mini-program: the same shared page logic as the WeChat one (lib/shared, built by
// scripts/web.sh) over Alipay's APIs: my.request and my storage for the SDK, my.getAuthCode
// for the login code, my.getRandomValues to seed the device party's randomness, and the
// runtime's WebAssembly fed with the module from the code package (gzip, inflated by fflate:
// as it is, the module would not fit the 2 MB package).
import { MiniWallet } from "./lib/shared/controller.js";
import { loadWasm } from "./lib/shared/wasm.js";
import { installRandom, platformSeed } from "./lib/shared/random.js";
import { myFetch, myStorage } from "./lib/sdk/index.js";
import { gunzipSync } from "./lib/vendor/fflate.js";
import { SERVER } from "./config.js";

/** Where the module is in the package. */
const WASM_GZ = "/lib/wasm/mpcw_device_wasm_bg.wasm.gz";

/** Alipay's engines that run WebAssembly take the module's bytes: read and inflated here. */
const packageLoader = () => {
  const standard = globalThis.WebAssembly;
  if (!standard?.instantiate) return undefined;
  return {
    instantiate: (path, imports) => {
      const read = my.getFileSystemManager().readFileSync(path);
      const gz = new Uint8Array(read.data ?? read);
      return standard.instantiate(gunzipSync(gz), imports);
    },
  };
};

App({
  globalData: { server: SERVER, wallet: null },
  wallet() {
    if (!this.globalData.wallet) {
      this.globalData.wallet = new MiniWallet(this.globalData.server, {
        name: "alipay",
        fetch: myFetch(my),
        storage: myStorage(my),
        loginCode: () =>
          new Promise((resolve, reject) =>
            my.getAuthCode({
              scopes: "auth_base",
              success: (r) => resolve(r.authCode),
              fail: (e) => reject(new Error(`my.getAuthCode: ${e.errorMessage ?? e.error}`)),
            }),
          ),
        wasm: async () => {
          installRandom(await platformSeed(my));
          return loadWasm(packageLoader(), WASM_GZ);
        },
      });
    }
    return this.globalData.wallet;
  },
});
