// An example Dapp: a small web shop that takes payment through the mpcw bridge. Its server
// holds the Dapp's API secret and uses the Dapp SDK (@mpcw/dapp): it serves the bridge relay
// the page's wallets call (at /mpcw), creates SOL orders for the connected account, follows
// them and verifies the callbacks. Its page (public/) connects and pays in ETH with ethers over
// the EIP-1193 provider, in SOL with @solana/web3.js over the Wallet Standard wallet, and shows
// the QR code and result of SOL orders.
//
//   node web/dapp/example/shop.mjs <server URL> <dapp id> <api secret> [port]
//
// Register the Dapp on the server with `callback_url = "http://<this host>:<port>/callback"`
// to see verified callbacks. The shop's tests start it in-process with `startShop`.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { DappClient, bridgeRelay, qrDataUrl, verifyCallback } from "../dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "..", "node_modules");

/** The networks the shop's page may use through the relay. */
export const NETWORKS = ["sepolia", "solana"];

/** What the page loads besides its own files: ethers, the Dapp SDK, and the SDK's QR encoder. */
const VENDOR = {
  // ethers and @solana/web3.js are what Dapps already use; the shop serves their browser builds.
  "/vendor/ethers.js": join(modules, "ethers/dist/ethers.min.js"),
  "/vendor/qrcode.mjs": join(modules, "qrcode-generator/dist/qrcode.mjs"),
  "/vendor/solana-web3.js": join(modules, "@solana/web3.js/lib/index.iife.min.js"),
};

/**
 * What the shop's server sells (the page pays in ETH itself, through ethers): an order names a
 * network and the request its plugin documents; the sender is the connected account's.
 */
export const ORDERS = {
  sol: {
    network: "solana",
    request: {
      kind: "transfer",
      to: "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T",
      lamports: "1500000",
      recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N",
    },
  },
};

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css" };

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function json(res, status, value) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

/**
 * Start the shop on `port` (0: any free one) for Dapp `id` of the mpcw server at `base`. Returns
 * its URL, the verified callbacks by bridge request id, and `close`.
 */
export async function startShop({ base, id, secret, port = 0 }) {
  const dapp = new DappClient({ base, id, secret });
  const relay = bridgeRelay(dapp, { networks: NETWORKS });
  // The key callbacks are signed with, fetched once (and again if one stops verifying).
  let callbackKey = await dapp.callbackKey();
  const callbacks = new Map();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, "http://shop");
      const path = url.pathname;
      if (req.method === "GET" && (path === "/" || path === "/shop.js" || path === "/shop.css")) {
        const file = path === "/" ? "/index.html" : path;
        res.writeHead(200, { "content-type": TYPES[file.slice(file.lastIndexOf("."))] });
        res.end(await readFile(join(here, "public", file)));
      } else if (req.method === "GET" && (VENDOR[path] || /^\/vendor\/dapp\/[\w-]+\.js$/.test(path))) {
        const file = VENDOR[path] ?? join(here, "..", "dist", path.slice("/vendor/dapp/".length));
        res.writeHead(200, { "content-type": TYPES[".js"] });
        res.end(await readFile(file));
      } else if (path.startsWith("/mpcw/")) {
        // The bridge relay for the page's provider: the API secret stays here.
        const raw = (await body(req)).toString();
        const answer = await relay({
          method: req.method,
          path: path.slice("/mpcw".length) + url.search,
          body: raw ? JSON.parse(raw) : undefined,
        });
        json(res, answer.status, answer.body);
      } else if (req.method === "POST" && path === "/api/orders") {
        const asked = JSON.parse((await body(req)).toString());
        const order = ORDERS[asked.order];
        if (!order) return json(res, 400, { error: "no such order" });
        // The connection's account pays: the bridge refuses a sender that is not its wallet.
        const connection = await dapp.connection(String(asked.connection ?? ""));
        const account = connection.accounts.find((a) => a.network === order.network);
        if (!account) return json(res, 400, { error: `not connected on ${order.network}` });
        const created = await dapp.createRequest({
          network: order.network,
          request: { ...order.request, from: account.address },
          connection: connection.id,
        });
        json(res, 201, { id: created.id, network: order.network, link: created.deep_link, qr: qrDataUrl(created) });
      } else if (req.method === "GET" && /^\/api\/orders\/[\w-]+\/events$/.test(path)) {
        // The bridge's events, passed on to the page (the API secret stays here).
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
        for await (const s of dapp.events(path.split("/")[3])) res.write(`data: ${JSON.stringify(s)}\n\n`);
        res.end();
      } else if (req.method === "GET" && /^\/api\/orders\/[\w-]+\/callback$/.test(path)) {
        json(res, 200, callbacks.get(path.split("/")[3]) ?? null);
      } else if (req.method === "POST" && path === "/callback") {
        const raw = await body(req);
        const check = (key) =>
          verifyCallback({
            key,
            timestamp: req.headers["x-mpcw-timestamp"],
            signature: req.headers["x-mpcw-signature"],
            body: new Uint8Array(raw),
          });
        try {
          const event = await check(callbackKey).catch(async (e) => {
            // The server's key may have been rotated: fetch the key once more.
            const fresh = await dapp.callbackKey();
            if (fresh === callbackKey) throw e;
            callbackKey = fresh;
            return check(fresh);
          });
          // Deliveries are at least once: the event id makes a repeat harmless.
          callbacks.set(event.data.id, { event_id: event.id, type: event.type, verified: true });
          json(res, 200, { ok: true });
        } catch (e) {
          json(res, 401, { error: e.message });
        }
      } else {
        json(res, 404, { error: "not found" });
      }
    } catch (e) {
      if (!res.headersSent) json(res, 502, { error: e.message });
      else res.end();
    }
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    callbacks,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [base, id, secret, port] = process.argv.slice(2);
  if (!base || !id || !secret) {
    console.error("usage: node shop.mjs <server URL> <dapp id> <api secret> [port]");
    process.exit(2);
  }
  const shop = await startShop({ base, id, secret, port: Number(port ?? 8430) });
  console.log(`shop at ${shop.url}`);
}
