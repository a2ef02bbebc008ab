// What only the AWS runtime has: heartbeats driven by the scheduled sweeper, and API
// Gateway closing a WebSocket at its maximum duration. Run with the launcher as server:
// E2E_SERVER=tests/lambda/serve.mjs (the Lambda phase of tests/run.sh).
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { io } from "socket.io-client";
import { startServer, connect, once, never } from "../js/harness.mjs";

const require = createRequire(import.meta.url);
const WebSocket = require("ws");

const PING_INTERVAL = 1000;
const PING_TIMEOUT = 1500;
const SWEEP_EVERY = 1000;

/**
 * A raw client that joins the main namespace over a WebSocket (so that no connect timeout
 * applies) and then never answers a ping.
 */
async function silentWebSocket(url) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  ws.on("message", (data) => frames.push(data.toString()));
  await new Promise((resolve, reject) => {
    ws.once("message", resolve);
    ws.once("error", reject);
  });
  assert.match(frames[0], /^0\{"sid":/);
  ws.send("40");
  const closed = new Promise((resolve) => ws.once("close", () => resolve(Date.now())));
  return { ws, frames, closed };
}

/** A describe's server and clients: its test starts them, and they are stopped after. */
function lifetime() {
  let server;
  const open = [];
  after(async () => {
    for (const s of open) s.close();
    await server?.stop();
  });
  return {
    start: async (args = []) => (server = await startServer("e2e-server", args)),
    keep: (...sockets) => open.push(...sockets),
  };
}

describe("the sweeper drives heartbeats", () => {
  const held = lifetime();

  it("closes a silent client on schedule and keeps a live one", async () => {
    const server = await held.start([
      "--ping-interval", String(PING_INTERVAL),
      "--ping-timeout", String(PING_TIMEOUT),
      "--sweep-every", String(SWEEP_EVERY),
    ]);
    const started = Date.now();
    const silent = await silentWebSocket(server.url);
    held.keep(silent.ws);
    const live = (await connect(server.url, { transports: ["websocket"] })).socket;
    held.keep(live);
    // The same over polling: joins, then never polls again.
    const handshake = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    const pollingOpened = Date.now();
    const pollingSid = JSON.parse((await handshake.text()).slice(1)).sid;
    const joined = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${pollingSid}`, {
      method: "POST",
      body: "40",
    });
    assert.equal(joined.status, 200);
    const liveStays = never(live, "disconnect", 3 * (PING_INTERVAL + PING_TIMEOUT));

    const closedAt = await Promise.race([
      silent.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error("silent client not closed")), 10_000)),
    ]);
    const after = closedAt - started;
    // A ping is due after the interval and overdue a timeout later; the sweeper acts on
    // its next run after each deadline.
    assert.ok(after >= PING_INTERVAL + PING_TIMEOUT, `closed after ${after} ms`);
    assert.ok(after <= PING_INTERVAL + PING_TIMEOUT + 2 * SWEEP_EVERY + 1000, `closed after ${after} ms`);
    assert.match(silent.frames[1], /^40\{"sid":/);
    assert.ok(silent.frames.includes("2"), `pinged before the close: ${JSON.stringify(silent.frames)}`);

    // The polling session that never polled is gone too, once its deadlines have passed.
    const overdue = pollingOpened + PING_INTERVAL + PING_TIMEOUT + 2 * SWEEP_EVERY + 1000 - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, overdue)));
    const poll = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${pollingSid}`);
    assert.equal(poll.status, 400);
    assert.deepEqual(await poll.json(), { code: 1, message: "Session ID unknown" });

    await liveStays;
    assert.equal(live.connected, true);
    assert.equal(await live.emitWithAck("echo", "still here"), "still here");
  });
});

describe("API Gateway's maximum connection duration", () => {
  const held = lifetime();

  it("closes the WebSocket, and the client recovers what it missed", async () => {
    const MAX_DURATION = 3000;
    const server = await held.start(["--max-duration", String(MAX_DURATION)]);
    const socket = io(server.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 1000,
    });
    held.keep(socket);
    const first = await once(socket, "welcome", 5000);
    assert.equal(first.recovered, false);
    await socket.emitWithAck("join", "capped");
    await socket.emitWithAck("set-data", { kept: true });
    // The sender polls: the cap is for WebSockets.
    const other = (await connect(server.url, { transports: ["polling"] })).socket;
    held.keep(other);
    const got = [];
    socket.on("missed", (n) => got.push(n));
    await other.emitWithAck("to-room", "capped", "missed", 0);

    const reason = await once(socket, "disconnect", MAX_DURATION + 3000);
    assert.equal(reason, "transport close");
    await other.emitWithAck("to-room", "capped", "missed", 1);
    await other.emitWithAck("to-room", "capped", "missed", 2);

    const again = await once(socket, "welcome", 5000);
    assert.equal(again.recovered, true);
    assert.equal(socket.recovered, true);
    assert.equal(again.id, first.id);
    assert.deepEqual(got, [0, 1, 2]);
    assert.deepEqual(await socket.emitWithAck("get-data"), { kept: true });
  });
});

describe("a second WebSocket for an upgraded session", () => {
  const held = lifetime();

  it("opens, is closed by the server, and the upgraded one goes on", async () => {
    const server = await held.start();
    const base = `${server.url}/socket.io/?EIO=4`;
    const handshake = await fetch(`${base}&transport=polling`);
    const sid = JSON.parse((await handshake.text()).slice(1)).sid;
    const ws = `${base.replace("http", "ws")}&transport=websocket&sid=${sid}`;
    const first = new WebSocket(ws);
    /** The next frame on `first` that starts with `prefix`; pings are answered meanwhile. */
    const next = (prefix) =>
      new Promise((resolve) => {
        const onMessage = (data) => {
          const text = data.toString();
          if (text === "2") first.send("3");
          if (!text.startsWith(prefix)) return;
          first.off("message", onMessage);
          resolve(text);
        };
        first.on("message", onMessage);
      });
    await new Promise((resolve, reject) => first.once("open", resolve).once("error", reject));
    const probed = next("3probe");
    first.send("2probe");
    await probed;
    first.send("5");
    const joined = next("40");
    first.send("40");
    assert.match(await joined, /^40\{"sid":/);

    // API Gateway opens it (`$connect` answers 200), then the function closes it, as the
    // reference server does: the client sees a close, not a refused handshake.
    const second = new WebSocket(ws);
    const closed = new Promise((resolve) => second.once("close", resolve));
    await new Promise((resolve, reject) => second.once("open", resolve).once("error", reject));
    assert.equal(await closed, 1000);

    const echoed = next("43");
    first.send('421["echo","still here"]');
    assert.equal(await echoed, '431["still here"]');
    first.close();
  });
});

describe("a sweeper run that keeps sweeping", () => {
  const held = lifetime();

  it("pings a new session on time, though it hears of it only at its next sweep", async () => {
    const INTERVAL = 300;
    const server = await held.start([
      "--ping-interval", String(INTERVAL),
      "--ping-timeout", "1000",
      "--sweep-for", "60000",
    ]);
    const url = `${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`;
    // Each session opens while the sweeper has no deadline to wait for: it pauses, and
    // its next sweep is what finds the new session's first ping due. The gaps differ, so
    // that sessions do not open in step with the sweeper's pauses.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 400 + 137 * i));
      const ws = new WebSocket(url);
      const frames = [];
      const pinged = new Promise((resolve, reject) => {
        ws.on("message", (data) => {
          frames.push([data.toString(), Date.now()]);
          if (data.toString() === "2") resolve();
        });
        ws.once("error", reject);
      });
      await pinged;
      const late = frames.at(-1)[1] - frames[0][1] - INTERVAL;
      assert.match(frames[0][0], /^0\{"sid":/);
      assert.ok(late < 200, `the first ping came ${late} ms after it was due`);
      ws.close();
    }
  });
});

describe("packets of several frames sent by invocations at once", () => {
  const held = lifetime();

  it("reach a WebSocket client whole, each frame after its own header", { timeout: 60_000 }, async () => {
    // Each Management API POST waits a random moment: the frames of invocations that post
    // to one connection at once cross, as they can on AWS.
    const server = await held.start(["--post-delay", "15"]);
    const ws = { transports: ["websocket"] };
    const receiver = (await connect(server.url, ws)).socket;
    held.keep(receiver);
    await receiver.emitWithAck("join", "mixed");
    const got = { a: [], b: [], text: [] };
    const wrong = [];
    receiver.on("bin", ({ from, n, data }) => {
      if (!Buffer.from(data).equals(Buffer.alloc(32, `${from}${n}`))) wrong.push(`${from}${n}: ${data}`);
      got[from].push(n);
    });
    receiver.on("text", ({ n }) => got.text.push(n));
    // socket.io-client's decoder refuses a text frame where an attachment is due: the
    // client closes with "parse error".
    const closes = [];
    receiver.on("disconnect", (reason) => closes.push(reason));
    // Three senders on WebSockets of their own: their messages are separate invocations,
    // which run side by side.
    const COUNT = 25;
    const senders = await Promise.all([0, 1, 2].map(async () => (await connect(server.url, ws)).socket));
    held.keep(...senders);
    const send = (socket, event, payload) =>
      (async () => {
        for (let n = 0; n < COUNT; n++) await socket.emitWithAck("to-room", "mixed", event, payload(n));
      })();
    await Promise.all([
      send(senders[0], "bin", (n) => ({ from: "a", n, data: Buffer.alloc(32, `a${n}`) })),
      send(senders[1], "bin", (n) => ({ from: "b", n, data: Buffer.alloc(32, `b${n}`) })),
      send(senders[2], "text", (n) => ({ n })),
    ]);
    const all = Array.from({ length: COUNT }, (_, n) => n);
    const waited = Date.now();
    while (got.a.length + got.b.length + got.text.length < 3 * COUNT && Date.now() - waited < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(closes, []);
    assert.deepEqual(wrong, []);
    // Each sender's events in its order: it sends the next once the last was delivered.
    assert.deepEqual(got, { a: all, b: all, text: all });
  });
});
