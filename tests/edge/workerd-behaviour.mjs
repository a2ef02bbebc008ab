#!/usr/bin/env node
// Reproduces, with a bare Durable Object and none of this project's code, two workerd
// (miniflare) behaviours the edge meets in the official protocol suites:
// - closed from a webSocketMessage handler, a hibernatable WebSocket's TCP connection ends
//   once the client answers the close frame; closed from the object's alarm (or from a
//   fetch the alarm makes to the object), the close frames are exchanged (webSocketClose
//   runs) but the connection stays open, so a raw client waiting for its end waits for its
//   own timeout (the suites' ping and connect timeout tests over WebSocket);
// - an HTTP request sent after two WebSocket messages usually reaches the object before
//   them (the suites' "ignores HTTP requests with same sid after upgrade", which sends
//   `2probe` and `5` and then a GET it expects refused as after the upgrade: the edge
//   passes it by refusing a GET still parked when the session upgrades).
//   node tests/edge/workerd-behaviour.mjs      (after npm ci in edge/ and tests/)
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { Miniflare } = createRequire(path.join(root, "edge/package.json"))("miniflare");
const WebSocket = createRequire(path.join(root, "tests/package.json"))("ws");

const script = `
export class D {
  constructor(state) { this.state = state; }
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/seen") return new Response(JSON.stringify(this.seen ?? []));
    const pair = new WebSocketPair();
    this.state.acceptWebSocket(pair[1]);
    if (new URL(req.url).searchParams.get("via") === "alarm") await this.state.storage.setAlarm(Date.now() + 300);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  async alarm() { for (const ws of this.state.getWebSockets()) ws.close(1000, "from alarm"); }
  async webSocketMessage(ws, message) {
    if (message === "x") return ws.close(1000, "from message");
    (this.seen ??= []).push(message);
  }
  async webSocketClose(ws) { ws.close(1000, "reply"); }
}
export default { fetch(req, env) { return env.D.get(env.D.idFromName("x")).fetch(req); } };`;
const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  modules: true,
  script,
  compatibilityDate: "2026-04-20",
  durableObjects: { D: { className: "D", useSQLite: true } },
});
const url = (await mf.ready).origin.replace("http", "ws");
for (const via of ["message", "alarm"]) {
  await new Promise((done) => {
    const t0 = Date.now();
    const at = (what) => console.log(`closed from ${via}: ${String(Date.now() - t0).padStart(4)} ms ${what}`);
    const ws = new WebSocket(`${url}/?via=${via}`);
    ws.on("open", () => {
      ws._socket.on("end", () => at("TCP connection ended by the server"));
      if (via === "message") ws.send("x");
    });
    // ws moves to CLOSING when it receives the close frame and sends its own.
    const watch = setInterval(() => {
      if (ws.readyState !== WebSocket.CLOSING) return;
      clearInterval(watch);
      at("close frame received and answered");
    }, 2);
    const timer = setTimeout(() => {
      at("TCP connection still open after 3 s");
      ws.removeAllListeners("close");
      ws.terminate();
      done();
    }, 3000);
    ws.on("close", () => {
      clearTimeout(timer);
      clearInterval(watch);
      at("close event");
      done();
    });
  });
}
const order = { "GET after both messages": 0, "GET before a message": 0 };
for (let i = 0; i < 20; i++) {
  const ws = new WebSocket(`${url}/?via=order`);
  await new Promise((open) => ws.once("open", open));
  ws.send(`${i}-2probe`);
  ws.send(`${i}-5`);
  const seen = await (await fetch(`${url.replace("ws", "http")}/seen`)).json();
  order[seen.includes(`${i}-5`) ? "GET after both messages" : "GET before a message"]++;
  ws.close();
}
console.log("a GET sent after two messages on a WebSocket, 20 times:", order);
await mf.dispose();
