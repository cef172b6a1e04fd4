// `wx` and `my` as far as requests and storage go, behaving as WeChat's and Alipay's
// documentation says (wx.request resolves every HTTP status through `success` with
// `statusCode`; my.request reports HTTP errors through `fail` with `status`; their storage is
// synchronous, an absent WeChat key reads as ""), built over node:http and a Map. Shared by
// the SDK's adapter tests and the mini-programs' flow tests, which add the rest of a phone.
// Outside `test/`, so that `node --test` does not take it for a test file.

import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";

/**
 * One request on a connection of its own (`agent: false`), not on one kept from an earlier
 * request. The phone's WebAssembly key generation holds Node's event loop for seconds, so the
 * pool's idle timer cannot retire a kept connection before the server's idle limit (10 s) is
 * near; under load, a request written into such a connection as the server closes it fails
 * ("other side closed", EPIPE). That is the likely cause, not reproduced on demand, of the flow
 * test's two failures in loaded runs with those errors. A phone's network stack runs apart from
 * its JavaScript thread and retires idle connections on time.
 */
const send = (o, header) =>
  new Promise((resolve, reject) => {
    const url = new URL(o.url);
    const client = url.protocol === "https:" ? https : http;
    const req = client.request(url, { method: o.method ?? "GET", headers: header, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, data: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(o.data);
  });

/** WeChat's `wx`: `request` and the synchronous storage; `kept` is the storage's Map. */
export function fakeWx() {
  const kept = new Map();
  return {
    kept,
    request(o) {
      assert.equal(o.dataType, "text");
      send(o, o.header).then((r) => o.success({ statusCode: r.status, data: r.data }), (e) => o.fail({ errMsg: e.message }));
    },
    getStorageSync: (k) => kept.get(k) ?? "",
    setStorageSync: (k, v) => kept.set(k, v),
    removeStorageSync: (k) => kept.delete(k),
  };
}

/** Alipay's `my`: `request` and the synchronous storage; `kept` is the storage's Map. */
export function fakeMy() {
  const kept = new Map();
  return {
    kept,
    request(o) {
      send(o, o.headers).then(
        (r) => (r.status < 400 ? o.success({ status: r.status, data: r.data }) : o.fail({ error: 19, status: r.status, data: r.data })),
        (e) => o.fail({ error: 12, errorMessage: `${e.message} ${e.cause ?? ""}` }),
      );
    },
    getStorageSync: ({ key }) => ({ data: kept.get(key) ?? null }),
    setStorageSync: ({ key, data }) => kept.set(key, data),
    removeStorageSync: ({ key }) => kept.delete(key),
  };
}
