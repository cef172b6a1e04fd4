// The bridge relay: the few bridge calls a Dapp's page needs (connect, ask for a signature,
// follow it, disconnect), served by the Dapp's server, which holds the API secret. The page's
// providers (`MpcwEthereumProvider`) call it; the secret never reaches the page. The relay is
// runtime-neutral: mount `relay(call)` under a path of the Dapp's own server (the example
// shop mounts it at `/mpcw`), behind whatever session check the Dapp already has.

import { BridgeError, DappClient, qrDataUrl } from "./client.js";

/** One call from the page: method, path under the relay's mount point, JSON body. */
export interface RelayCall {
  method: string;
  path: string;
  body?: unknown;
}

/** The answer to send back: HTTP status and JSON body. */
export interface RelayAnswer {
  status: number;
  body: unknown;
}

/** A new bridge request as the page sees it: its link and QR code (the token is in the link). */
export interface Prompt {
  id: string;
  deep_link: string;
  qr: string;
  expires_at: number;
}

const refuse = (status: number, code: string, message: string): RelayAnswer => ({
  status,
  body: { error: { code, message } },
});

/**
 * The relay of `dapp`: `GET /chains`, `POST /connect` `{networks}`, `POST /requests`
 * `{network, request, connection, broadcast}`, `GET /requests/{id}?wait=`, `GET` and `DELETE
 * /connections/{id}`, and `POST /rpc/{network}` `{method, params}` (chain reads through the
 * server's node). `networks` limits the networks the page may use (default: all).
 */
export function bridgeRelay(dapp: DappClient, opts: { networks?: string[] } = {}) {
  const allowed = (n: unknown): n is string =>
    typeof n === "string" && (!opts.networks || opts.networks.includes(n));
  const prompt = (c: { id: string; deep_link: string; expires_at: number; token: string }): Prompt => ({
    id: c.id,
    deep_link: c.deep_link,
    qr: qrDataUrl(c),
    expires_at: c.expires_at,
  });
  return async ({ method, path, body }: RelayCall): Promise<RelayAnswer> => {
    const url = new URL(path, "http://relay");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const b = (body ?? {}) as Record<string, unknown>;
    const route = `${method} ${parts[0] ?? ""}/${parts.length}`;
    try {
      switch (route) {
        case "GET chains/1":
          return { status: 200, body: { networks: await dapp.chains() } };
        case "POST connect/1": {
          const networks = b.networks;
          if (!Array.isArray(networks) || !networks.every(allowed)) {
            return refuse(403, "forbidden", "networks must be networks this Dapp uses");
          }
          return { status: 201, body: prompt(await dapp.connect({ networks })) };
        }
        case "POST requests/1": {
          if (!allowed(b.network)) return refuse(403, "forbidden", "network must be one this Dapp uses");
          const created = await dapp.createRequest({
            network: b.network,
            request: b.request,
            connection: typeof b.connection === "string" ? b.connection : undefined,
            broadcast: b.broadcast === true,
          });
          return { status: 201, body: prompt(created) };
        }
        case "GET requests/2": {
          const wait = Math.min(25, Math.max(0, Number(url.searchParams.get("wait") ?? 0) || 0));
          return { status: 200, body: await dapp.status(parts[1], wait) };
        }
        case "POST rpc/2": {
          if (!allowed(parts[1])) return refuse(403, "forbidden", "network must be one this Dapp uses");
          const params = Array.isArray(b.params) ? b.params : [];
          return { status: 200, body: await dapp.rpc(parts[1], String(b.method ?? ""), params) };
        }
        case "GET connections/2":
          return { status: 200, body: await dapp.connection(parts[1]) };
        case "DELETE connections/2":
          return { status: 200, body: await dapp.disconnect(parts[1]) };
        default:
          return refuse(404, "not_found", `no relay route ${method} ${url.pathname}`);
      }
    } catch (e) {
      if (e instanceof BridgeError) return refuse(e.status, e.code, e.detail);
      throw e;
    }
  };
}
