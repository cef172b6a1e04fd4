// Adapters for WeChat and Alipay mini-programs: the SDK's `Fetch` over `wx.request` /
// `my.request`, and its `KeyValueStore` over their synchronous storage. The mini-program
// passes its global `wx` or `my`; nothing here imports them, so the SDK builds and tests
// anywhere. (The wasm module needs `crypto.getRandomValues`, which a mini-program's
// WebAssembly loader provides or the mini-program polyfills from `wx.getRandomValues`.)

import type { Fetch } from "./api.js";
import type { KeyValueStore } from "./storage.js";

/** What the SDK uses of WeChat's `wx`. */
export interface WxLike {
  request(opts: {
    url: string;
    method: string;
    header: Record<string, string>;
    data?: string;
    dataType: string;
    responseType: "text";
    success(res: { statusCode: number; data: unknown }): void;
    fail(err: { errMsg: string }): void;
  }): void;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: string): void;
  removeStorageSync(key: string): void;
}

/** What the SDK uses of Alipay's `my`. */
export interface MyLike {
  request(opts: {
    url: string;
    method: string;
    headers: Record<string, string>;
    data?: string;
    dataType: string;
    success(res: { status: number; data: unknown }): void;
    fail(err: { error?: number; errorMessage?: string; status?: number; data?: unknown }): void;
  }): void;
  getStorageSync(opts: { key: string }): { data?: unknown };
  setStorageSync(opts: { key: string; data: string }): void;
  removeStorageSync(opts: { key: string }): void;
}

const text = (data: unknown) => (typeof data === "string" ? data : data == null ? "" : JSON.stringify(data));

/** `fetch` over `wx.request`: the body as text (the SDK parses it), any status resolved. */
export function wxFetch(wx: WxLike): Fetch {
  return (url, init) =>
    new Promise((resolve, reject) =>
      wx.request({
        url,
        method: init.method,
        header: init.headers,
        data: init.body,
        // Any value but "json" leaves the body unparsed.
        dataType: "text",
        responseType: "text",
        success: (res) => resolve({ status: res.statusCode, text: async () => text(res.data) }),
        fail: (err) => reject(new Error(`wx.request failed: ${err.errMsg}`)),
      }),
    );
}

/** `fetch` over `my.request`. Alipay reports HTTP errors through `fail` with the status. */
export function myFetch(my: MyLike): Fetch {
  return (url, init) =>
    new Promise((resolve, reject) =>
      my.request({
        url,
        method: init.method,
        headers: init.headers,
        data: init.body,
        dataType: "text",
        success: (res) => resolve({ status: res.status, text: async () => text(res.data) }),
        fail: (err) =>
          err.status
            ? resolve({ status: err.status, text: async () => text(err.data) })
            : reject(new Error(`my.request failed: ${err.errorMessage ?? err.error}`)),
      }),
    );
}

/** A store over `wx.getStorageSync` and friends (an absent key reads as ""). */
export function wxStorage(wx: WxLike): KeyValueStore {
  return {
    get: async (k) => {
      const v = wx.getStorageSync(k);
      return typeof v === "string" && v !== "" ? v : null;
    },
    set: async (k, v) => wx.setStorageSync(k, v),
    remove: async (k) => wx.removeStorageSync(k),
  };
}

/** A store over `my.getStorageSync({ key })` and friends. */
export function myStorage(my: MyLike): KeyValueStore {
  return {
    get: async (k) => {
      const v = my.getStorageSync({ key: k }).data;
      return typeof v === "string" ? v : null;
    },
    set: async (k, v) => my.setStorageSync({ key: k, data: v }),
    remove: async (k) => my.removeStorageSync({ key: k }),
  };
}
