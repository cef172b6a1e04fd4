// `wx` and `my` as far as requests and storage go, behaving as WeChat's and Alipay's
// documentation says (wx.request resolves every HTTP status through `success` with
// `statusCode`; my.request reports HTTP errors through `fail` with `status`; their storage is
// synchronous, an absent WeChat key reads as ""), built over Node's fetch and a Map. Shared by
// the SDK's adapter tests and the mini-programs' flow tests, which add the rest of a phone.
// Outside `test/`, so that `node --test` does not take it for a test file.

import assert from "node:assert/strict";

const send = async (o, header) => {
  const r = await fetch(o.url, { method: o.method, headers: header, body: o.data });
  return { status: r.status, data: await r.text() };
};

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
