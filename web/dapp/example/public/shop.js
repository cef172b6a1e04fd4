// The shop's page: connect the user's wallet, then ask the shop's server for a bridge request
// for the connected account, show its QR code and link, and follow its status (server-sent
// events relayed by the shop's server) to the result.

const $ = (s) => document.querySelector(s);
let connection = null;

// Show the connected accounts, and let the user pay with them.
function connected(c) {
  connection = c.id;
  const ul = $("#accounts");
  ul.replaceChildren();
  for (const a of c.accounts) {
    const li = document.createElement("li");
    li.dataset.network = a.network;
    const code = document.createElement("code");
    code.textContent = a.address;
    li.append(`${a.network}: `, code);
    ul.append(li);
  }
  $("#account").hidden = false;
  for (const b of document.querySelectorAll("button[data-order]")) b.disabled = false;
}

async function pay(order) {
  await follow("/api/orders", { order, connection });
}

async function follow(path, body) {
  $("#error").textContent = "";
  const r = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const created = await r.json();
  if (!r.ok) throw new Error(created.error);
  const section = $("#order");
  section.hidden = false;
  section.dataset.request = created.id;
  $("#qr").src = created.qr;
  $("#link").href = created.link;
  $("#tx").hidden = true;
  $("#callback").hidden = true;
  $("#status").textContent = "pending";
  const events = new EventSource(`/api/orders/${created.id}/events`);
  events.onmessage = async (e) => {
    const s = JSON.parse(e.data);
    $("#status").textContent = s.status;
    if (s.result) {
      $("#tx-id").textContent = s.result.id;
      $("#tx").hidden = false;
      section.dataset.raw = s.result.encoded;
    }
    if (s.connection) connected(s.connection);
    if (["done", "failed", "rejected", "expired"].includes(s.status)) {
      events.close();
      await showCallback(created.id);
    }
  };
}

// The callback reaches the shop's server on its own; show it once it has come and verified.
async function showCallback(id) {
  for (let i = 0; i < 50; i++) {
    const cb = await (await fetch(`/api/orders/${id}/callback`)).json();
    if (cb) {
      $("#callback").textContent = `Callback ${cb.type}, signature verified (${cb.event_id})`;
      $("#callback").hidden = false;
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

$("#connect").onclick = () => follow("/api/connect", {}).catch((e) => ($("#error").textContent = e.message));
for (const b of document.querySelectorAll("button[data-order]")) {
  b.onclick = () => pay(b.dataset.order).catch((e) => ($("#error").textContent = e.message));
}
