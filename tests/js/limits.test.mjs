// Limits (issue 8): a server started with small limits. Going over one gets that client a
// clear error (or, for the polling queue, the close of that one session) and a log line;
// a bystander connected throughout never notices.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { startServer, connect, once, never } from "./harness.mjs";

const RS = "\x1e";
const LIMITS = {
  "--max-sessions": 3,
  "--max-namespaces": 2,
  "--max-rooms": 3,
  "--max-pending-acks": 2,
  "--max-buffered-packets": 20,
};

describe("limits", () => {
  let server;
  let base;
  let bystander;
  let bystanderGone;

  before(async () => {
    // On Cloudflare each Durable Object counts its own sessions (docs/cloudflare.md): one
    // object holds them all here, so that the limit is the server's.
    const objects = process.env.E2E_RUNTIME === "edge" ? ["--objects", "1"] : [];
    server = await startServer("e2e-server", [...Object.entries(LIMITS).flat().map(String), ...objects]);
    base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    bystander = (await connect(server.url, { transports: ["websocket"] })).socket;
    bystanderGone = never(bystander, "disconnect", 2_147_483);
  });

  after(async () => {
    bystander.close();
    await server.stop();
  });

  const handshake = () => fetch(base);
  /** A handshake once the sessions of the previous test, closed by their clients, are gone. */
  async function freeHandshake() {
    for (let i = 0; i < 50; i++) {
      const res = await handshake();
      if (res.status === 200) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail("sessions of earlier tests still open");
  }
  /** The server logged a line matching `pattern` (stderr may trail the client's view). */
  async function logged(pattern) {
    for (let i = 0; i < 50 && !pattern.test(server.log()); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(server.log(), pattern, "the server logs why");
  }
  const post = (sid, body) => fetch(`${base}&sid=${sid}`, { method: "POST", body });
  const poll = async (sid) => {
    const res = await fetch(`${base}&sid=${sid}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  };
  const sidOf = async (res) => JSON.parse((await res.text()).slice(1)).sid;

  /** The bystander still gets its echo back. */
  async function bystanderServed() {
    assert.equal(await bystander.timeout(2000).emitWithAck("echo", "still here"), "still here");
  }

  it("refuses a handshake over max_sessions with 503, and takes one again once a session ends", async () => {
    // The bystander holds one session: two more fit.
    const open = [];
    for (let i = 0; i < 2; i++) {
      const res = await handshake();
      assert.equal(res.status, 200);
      open.push(await sidOf(res));
    }
    const refused = await handshake();
    assert.equal(refused.status, 503);
    assert.deepEqual(await refused.json(), { code: 4, message: "Too many sessions" });
    await logged(/handshake refused: max_sessions reached/);

    const ws = new Manager(server.url, { transports: ["websocket"], reconnection: false }).socket("/");
    const error = await once(ws.io, "error", 3000);
    assert.match(String(error), /websocket error/, "a WebSocket handshake is refused too");
    ws.io.engine?.close();

    for (const sid of open) assert.equal((await post(sid, "1")).status, 200);
    const again = await handshake();
    assert.equal(again.status, 200);
    assert.equal((await post(await sidOf(again), "1")).status, 200);
    await bystanderServed();
  });

  it("answers a CONNECT over max_namespaces with CONNECT_ERROR, the other namespaces stay", async () => {
    const manager = new Manager(server.url, { transports: ["websocket"], reconnection: false });
    const main = manager.socket("/");
    await once(main, "connect");
    const second = manager.socket("/dyn-one");
    await once(second, "connect");
    const third = manager.socket("/dyn-two");
    const refusal = await once(third, "connect_error");
    assert.equal(refusal.message, "Too many namespaces");
    await logged(/CONNECT refused: max_namespaces reached/);
    assert.equal(await main.timeout(2000).emitWithAck("echo", 1), 1);
    assert.equal(await second.timeout(2000).emitWithAck("echo", 2), 2);
    main.disconnect();
    second.disconnect();
    manager.engine.close();
    await bystanderServed();
  });

  it("fails a join over max_rooms for that socket only", async () => {
    const { socket } = await connect(server.url, { transports: ["websocket"] });
    assert.equal((await socket.emitWithAck("join", "r1")).length, 2, "its own room and r1");
    assert.equal((await socket.emitWithAck("join", "r2")).length, 3);
    const refused = await socket.emitWithAck("join", "r3");
    assert.match(refused.error, /max_rooms/);
    assert.deepEqual(await socket.emitWithAck("leave", "r3"), [socket.id, "r1", "r2"].sort(), "r3 was not joined");
    await logged(/join refused: max_rooms reached/);
    assert.equal((await bystander.emitWithAck("join", "r3")).length, 2, "the bystander joins as usual");
    socket.close();
    await bystanderServed();
  });

  it("fails an emit with ack over max_pending_acks for that socket only", async () => {
    const { socket } = await connect(server.url, { transports: ["websocket"] });
    socket.on("question", () => {}); // never answers
    socket.emit("ask", "q1", 4000, () => {});
    socket.emit("ask", "q2", 4000, () => {});
    await new Promise((r) => setTimeout(r, 200));
    const refused = await socket.timeout(2000).emitWithAck("ask", "q3", 4000);
    assert.match(refused.error, /max_pending_acks/);
    await logged(/acknowledgement not requested: max_pending_acks reached/);

    bystander.once("question", (payload, answer) => answer(`got ${payload}`));
    assert.deepEqual(await bystander.timeout(3000).emitWithAck("ask", "b", 2000), { answer: "got b" });
    socket.close();
  });

  it("carries events just under maxPayload over polling, with a GET waiting meanwhile", async () => {
    for (let i = 0; i < 20; i++) {
      const sid = await sidOf(await freeHandshake());
      await post(sid, "40");
      assert.match((await poll(sid)).body, /^40\{"sid":/);
      const waiting = poll(sid);
      const text = `${i}:`.padEnd(95_000, "x");
      assert.equal((await post(sid, `42["echo",${JSON.stringify(text)}]`)).status, 200);
      // The GET that waited may bring the welcome event or a ping first (answered, so the
      // session lives on).
      const isEcho = (p) => p.startsWith('42["echo"');
      let packets = [];
      for (let polls = 0; !packets.some(isEcho) && polls < 5; polls++) {
        const { status, body } = await (polls === 0 ? waiting : poll(sid));
        assert.equal(status, 200);
        packets = body.split(RS);
        if (packets.includes("2")) assert.equal((await post(sid, "3")).status, 200);
      }
      const echo = packets.find(isEcho);
      const seen = packets.map((p) => p.slice(0, 20));
      assert.ok(echo?.startsWith(`42["echo",${JSON.stringify(text)}`), `echo ${i} came back whole, not ${seen}`);
      assert.equal((await post(sid, "1")).status, 200);
    }
    await bystanderServed();
  });

  it("closes a polling session whose queue goes over max_buffered_packets", async () => {
    const sid = await sidOf(await freeHandshake());
    await post(sid, "40");
    assert.match((await poll(sid)).body, /^40\{"sid":/);
    // 25 echoes while nobody polls: more than the 20 packets the queue may hold.
    const echoes = Array.from({ length: 25 }, (_, i) => `42["echo",${i}]`).join(RS);
    assert.equal((await post(sid, echoes)).status, 200);
    await logged(/polling queue over max_buffered_packets: closing the session/);
    // GETs may still take what was queued before the close, then a close packet; the next
    // finds no session.
    let answer = await poll(sid);
    for (let i = 0; i < 2 && answer.status === 200; i++) answer = await poll(sid);
    assert.equal(answer.status, 400);
    assert.deepEqual(JSON.parse(answer.body), { code: 1, message: "Session ID unknown" });

    const ok = await sidOf(await freeHandshake());
    await post(ok, "40");
    await poll(ok);
    await post(ok, Array.from({ length: 10 }, (_, i) => `42["echo",${i}]`).join(RS));
    const echoed = [];
    for (let i = 0; i < 10 && echoed.length < 10; i++) {
      echoed.push(...(await poll(ok)).body.split(RS).filter((packet) => packet.startsWith(`42["echo"`)));
    }
    assert.deepEqual(
      echoed.map((packet) => JSON.parse(packet.slice(2))[1]).sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, i) => i),
      "a queue within the limit is delivered whole",
    );
    await post(ok, "1");
    await bystanderServed();
  });

  it("kept the bystander connected and serving throughout", async () => {
    assert.equal(bystander.connected, true);
    await bystanderServed();
    const gone = await Promise.race([bystanderGone.then(() => "gone", (e) => e.message), "ok"]);
    assert.equal(gone, "ok");
  });
});
