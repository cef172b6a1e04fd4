// The WeChat mini-program: the shared page logic (lib/shared, built by scripts/web.sh) over
// WeChat's APIs: wx.request and wx storage for the SDK, wx.login for the login code,
// wx.getRandomValues to seed the device party's randomness, and WXWebAssembly to run it.
import { MiniWallet } from "./lib/shared/controller.js";
import { loadWasm } from "./lib/shared/wasm.js";
import { installRandom, platformSeed } from "./lib/shared/random.js";
import { wxFetch, wxStorage } from "./lib/sdk/index.js";
import { SERVER } from "./config.js";

App({
  globalData: { server: SERVER, wallet: null },
  wallet() {
    if (!this.globalData.wallet) {
      this.globalData.wallet = new MiniWallet(this.globalData.server, {
        name: "wechat",
        fetch: wxFetch(wx),
        storage: wxStorage(wx),
        loginCode: () =>
          new Promise((resolve, reject) =>
            wx.login({ success: (r) => resolve(r.code), fail: (e) => reject(new Error(`wx.login: ${e.errMsg}`)) }),
          ),
        wasm: async () => {
          installRandom(await platformSeed(wx));
          // eslint-disable-next-line no-undef
          return loadWasm(typeof WXWebAssembly === "undefined" ? undefined : WXWebAssembly);
        },
      });
    }
    return this.globalData.wallet;
  },
});
