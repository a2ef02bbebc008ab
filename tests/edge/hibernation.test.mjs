// The Cloudflare runtime across an eviction: workerd drops an idle Durable Object from
// memory after ~10 s, keeping its storage and its hibernated WebSockets. Sockets connected
// before must carry on as if nothing happened: pinged on time by the alarm, their rooms,
// socket.data and a pending store-backed ack intact, broadcasts delivered.
//
// Needs the built Worker (edge/build.sh); run from tests/: node --test edge/
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, connect, once } from "../js/harness.mjs";

const serve = path.join(path.dirname(fileURLToPath(import.meta.url)), "serve.mjs");
// Pings further apart than an object lives idle, so that the object is evicted between
// two of them; the timeout leaves room for a slow CI machine.
const PING_INTERVAL = 14_000;
const IDLE_MS = 11_500;

async function stats(url, object = "o0") {
  const res = await fetch(`${url}/__sio/object/${object}/stats`);
  assert.equal(res.status, 200);
  return res.json();
}

describe("edge: hibernation", () => {
  let server;
  const open = [];

  before(async () => {
    process.env.E2E_SERVER = serve;
    // One object, the one whose eviction the test watches.
    server = await startServer("edge", [
      "--objects",
      "1",
      "--ping-interval",
      String(PING_INTERVAL),
      "--ping-timeout",
      "10000",
    ]);
  });
  after(async () => {
    for (const s of open) s.close();
    await server.stop();
  });

  it("serves sockets from storage and attachments after the object was evicted", { timeout: 60_000 }, async () => {
    const client = async () => {
      const c = await connect(server.url, { transports: ["websocket"] });
      open.push(c.socket);
      return c.socket;
    };
    const a = await client();
    const b = await client();
    const connectedAt = Date.now();
    const pings = [];
    a.io.engine.on("ping", () => pings.push(Date.now() - connectedAt));

    assert.deepEqual(await a.emitWithAck("join", "den"), [a.id, "den"].sort());
    assert.deepEqual(await b.emitWithAck("join", "den"), [b.id, "den"].sort());
    assert.equal(await a.emitWithAck("set-data", { nick: "ann" }), true);
    // A store-backed ack left pending across the eviction: answered only afterwards.
    let answer;
    a.on("question", (q, ack) => {
      answer = ack;
    });
    assert.equal(await a.emitWithAck("ask-later", "still there?", 40_000), true);
    while (!answer) await new Promise((r) => setTimeout(r, 20));

    const before = await stats(server.url);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const afterIdle = await stats(server.url);
    assert.notEqual(afterIdle.incarnation, before.incarnation, "workerd evicted the object");
    assert.equal(afterIdle.websockets, 2, "the hibernated WebSockets are still there");

    const report = once(a, "answered", 5000);
    answer("yes");
    assert.deepEqual(await report, { asked: "still there?", answer: "yes" });
    assert.deepEqual(await a.emitWithAck("get-data"), { nick: "ann" });
    assert.equal(await a.emitWithAck("echo", "after", 1), "after");
    const got = once(b, "news", 5000);
    assert.equal(await a.emitWithAck("to-room", "den", "news", { n: 1 }), "ok");
    assert.deepEqual(await got, { n: 1 });
    assert.deepEqual(await b.emitWithAck("leave", "den"), [b.id]);

    // Pinged on time: the first ping one interval after the handshake, from an object
    // that had been evicted in between.
    while (Date.now() - connectedAt < PING_INTERVAL + 1500) await new Promise((r) => setTimeout(r, 100));
    assert.ok(pings.length >= 1, "pinged after the eviction");
    assert.ok(
      pings[0] >= PING_INTERVAL - 200 && pings[0] <= PING_INTERVAL + 1000,
      `first ping ${pings[0]} ms after connecting, interval ${PING_INTERVAL}`
    );
    assert.equal(a.connected && b.connected, true);
  });
});
