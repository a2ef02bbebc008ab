// Several native processes on one Redis, no sticky sessions: a round-robin front sends
// each HTTP request and each WebSocket to the next process, and clients connected to
// different processes share rooms, broadcasts, acknowledgements and recovery.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { tmpdir } from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { io } from "socket.io-client";
import { startServer, once, never, transportIs, freePort, until } from "./harness.mjs";
import { roundRobin } from "./roundrobin.mjs";

/** A redis-server of the test's own; `durable`, with an fsync-always append-only file in a
 * temporary folder so that a killed and restarted Redis keeps what it acknowledged. */
async function startRedis({ durable = true } = {}) {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "sio-redis-"));
  let proc;
  const launch = async () => {
    proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", durable ? "yes" : "no", "--appendfsync", "always"],
      { stdio: "ignore" }
    );
    for (let i = 0; i < 200; i++) {
      const up = await new Promise((resolve) => {
        const s = net.connect(port, "127.0.0.1", () => {
          s.destroy();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("redis-server did not start");
  };
  const kill = () =>
    new Promise((resolve) => {
      proc.once("exit", resolve);
      proc.kill("SIGKILL");
    });
  /** Sends one command; resolves with the first line of the reply. */
  const command = (...args) =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () =>
        s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""))
      );
      let reply = "";
      s.on("data", (d) => {
        reply += d;
        if (reply.includes("\r\n")) {
          s.destroy();
          resolve(reply.split("\r\n")[0]);
        }
      });
      s.on("error", reject);
    });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}/`,
    kill,
    launch,
    command,
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A cluster for one `describe`: a Redis of its own and `count` e2e-servers on it (with
 * `args` added), the first two also behind a round-robin front; started before the
 * suite's tests, stopped after them with every client `client()` opened.
 */
function cluster({ durable = true, count = 3, args = [] } = {}) {
  const c = { servers: [], open: [] };
  c.client = (url, opts = {}) => {
    const socket = io(url, { forceNew: true, reconnection: false, ...opts });
    c.open.push(socket);
    return socket;
  };
  before(async () => {
    c.redis = await startRedis({ durable });
    for (let i = 0; i < count; i++) c.servers.push(await startServer("e2e-server", ["--redis", c.redis.url, ...args]));
    c.front = await roundRobin(c.servers.slice(0, 2).map((s) => s.url));
  });
  after(async () => {
    for (const s of c.open) s.close();
    await c.front?.close();
    for (const s of c.servers) await s.stop();
    await c.redis?.stop();
  });
  return c;
}

const welcomed = (socket) => once(socket, "welcome", 5000);

describe("several processes on one Redis", () => {
  const c = cluster({ args: ["--tick-ms", "500"] });
  const { servers, client } = c;

  it("serves a polling session whose requests alternate between processes", async () => {
    const socket = client(c.front.url, { transports: ["polling"] });
    await welcomed(socket);
    const before = c.front.routed.length;
    assert.equal(await socket.timeout(3000).emitWithAck("echo", "hop"), "hop");
    const bin = Buffer.from([1, 2, 3]);
    assert.deepEqual(Buffer.from(await socket.timeout(3000).emitWithAck("echo", bin)), bin);
    await never(socket, "disconnect", 2000);
    const ports = new Set(c.front.routed.slice(before).map((r) => r.to));
    assert.equal(ports.size, 2, "requests went to both processes");
  });

  it("upgrades a session whose polling and WebSocket sit on different processes", async () => {
    const socket = client(c.front.url);
    await welcomed(socket);
    await transportIs(socket, "websocket");
    assert.equal(await socket.timeout(3000).emitWithAck("echo", "up"), "up");
    await never(socket, "disconnect", 1500);
  });

  it("shares rooms, broadcasts and fetchSockets across processes", async () => {
    const a = client(servers[0].url, { transports: ["websocket"], auth: { name: "a" } });
    const b = client(servers[1].url, { transports: ["websocket"], auth: { name: "b" } });
    const c = client(servers[2].url, { transports: ["polling"], auth: { name: "c" } });
    await Promise.all([welcomed(a), welcomed(b), welcomed(c)]);
    for (const s of [a, b, c]) await s.emitWithAck("join", "xroom");
    const got = [once(a, "news"), once(b, "news"), once(c, "news")];
    await c.emitWithAck("to-room", "xroom", "news", "all");
    assert.deepEqual(await Promise.all(got), ["all", "all", "all"]);
    const list = await b.emitWithAck("fetch", "xroom");
    assert.deepEqual(list.map((s) => s.data.name).sort(), ["a", "b", "c"]);
    const bc = [once(b, "bc"), once(c, "bc")];
    const notA = never(a, "bc");
    await a.emitWithAck("broadcast", "bc", 1);
    assert.deepEqual(await Promise.all(bc), [1, 1]);
    await notA;
    await a.emitWithAck("sockets-join", "xroom", "joined-remotely");
    assert.ok((await c.emitWithAck("join", "x")).includes("joined-remotely"));
  });

  it("emits to and fetches the sockets of this process only (local)", async () => {
    const a = client(servers[0].url, { transports: ["websocket"] });
    const b = client(servers[1].url, { transports: ["websocket"] });
    await Promise.all([welcomed(a), welcomed(b)]);
    for (const s of [a, b]) await s.emitWithAck("join", "xlocal");
    const mine = once(a, "here");
    const notB = never(b, "here");
    assert.equal(await a.emitWithAck("local-room", "xlocal", "here", 1), 1);
    assert.equal(await mine, 1);
    await notB;
  });

  it("resolves acknowledgements awaited on another process", async () => {
    const a = client(servers[0].url, { transports: ["websocket"] });
    const b = client(servers[1].url, { transports: ["websocket"] });
    const c = client(servers[2].url, { transports: ["polling"] });
    await Promise.all([welcomed(a), welcomed(b), welcomed(c)]);
    for (const [s, name] of [[a, "a"], [b, "b"], [c, "c"]]) {
      await s.emitWithAck("join", "xpoll");
      s.on("poll", (ack) => ack(name));
    }
    assert.deepEqual(await a.emitWithAck("ask-room", "xpoll", 3000), { answers: ["a", "b", "c"], error: null });
  });

  it("runs server-side events on every other process, and gathers their acknowledgements", async () => {
    const a = client(servers[0].url, { transports: ["websocket"] });
    await welcomed(a);
    const answer = await a.emitWithAck("cluster-ask", "hi", 3000);
    assert.deepEqual(answer, { replies: [["pong", "hi"], ["pong", "hi"]], timedOut: false });
    await a.emitWithAck("join", "xtold");
    const told = [];
    a.on("told", (text) => told.push(text));
    assert.equal(await a.emitWithAck("cluster-tell", "xtold", "news"), true);
    await until(() => told.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(told, ["news", "news"]);
  });

  it("runs a scheduled handler once per tick for all the processes", async () => {
    const a = client(servers[0].url, { transports: ["websocket"] });
    const b = client(servers[1].url, { transports: ["websocket"] });
    await Promise.all([welcomed(a), welcomed(b)]);
    const ticks = [];
    a.on("tick", (tick) => ticks.push(tick));
    await a.emitWithAck("join", "tick-watchers");
    await until(() => ticks.length >= 4, 5000);
    assert.equal(new Set(ticks).size, ticks.length, `a tick ran twice: ${ticks}`);
  });

  it("disconnects sockets held by other processes", async () => {
    const a = client(servers[0].url, { transports: ["websocket"] });
    const b = client(servers[1].url, { transports: ["websocket"] });
    await Promise.all([welcomed(a), welcomed(b)]);
    await b.emitWithAck("join", "xbye");
    const gone = once(b, "disconnect");
    await a.emitWithAck("disconnect-room", "xbye");
    assert.equal(await gone, "io server disconnect");
  });

  it("keeps serving when a process is killed mid-broadcast, and its sessions expire on time", async (t) => {
    const victim = await startServer("e2e-server", ["--redis", c.redis.url]);
    servers.push(victim);
    const survivors = [
      client(servers[0].url, { transports: ["websocket"] }),
      client(servers[2].url, { transports: ["polling"] }),
    ];
    const doomed = [1, 2, 3].map(() => client(victim.url, { transports: ["websocket"] }));
    await Promise.all([...survivors, ...doomed].map(welcomed));
    for (const s of [...survivors, ...doomed]) await s.emitWithAck("join", "xkill");
    const ticks = survivors.map((s) => {
      const got = [];
      s.on("tick", (n) => got.push(n));
      return got;
    });
    const sender = survivors[0];
    const total = 40;
    let killedAt;
    for (let i = 0; i < total; i++) {
      if (i === total / 2) {
        victim.proc.kill("SIGKILL");
        killedAt = Date.now();
      }
      await sender.timeout(3000).emitWithAck("to-room", "xkill", "tick", i);
    }
    const everyTick = Array.from({ length: total }, (_, i) => i);
    for (let i = 0; i < 50 && ticks.some((got) => got.length < total); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(ticks, [everyTick, everyTick], "survivors got every broadcast once, in order");
    // The victim's sessions outlive it only until their heartbeat deadline (ping interval
    // 500 ms + ping timeout 1000 ms), swept by the processes still alive.
    let members;
    for (;;) {
      members = await sender.timeout(3000).emitWithAck("fetch", "xkill");
      if (members.length <= survivors.length || Date.now() - killedAt > 10_000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const expiredAfter = Date.now() - killedAt;
    t.diagnostic(`the killed process's sessions were gone ${expiredAfter} ms after the kill`);
    assert.deepEqual(members.map((m) => m.id).sort(), survivors.map((s) => s.id).sort());
    assert.ok(expiredAfter < 500 + 1000 + 1500, `the dead process's sessions expired after ${expiredAfter} ms`);
    for (const s of survivors) {
      assert.ok(s.connected);
      assert.equal(await s.timeout(3000).emitWithAck("echo", "still here"), "still here");
    }
  });

  it("recovers a socket after the process holding it is killed", async () => {
    const victim = await startServer("e2e-server", ["--redis", c.redis.url]);
    servers.push(victim);
    const lb = await roundRobin([victim.url, servers[1].url]);
    try {
      const socket = client(lb.url, {
        transports: ["websocket"],
        reconnection: true,
        reconnectionDelay: 2500,
        reconnectionDelayMax: 2500,
        randomizationFactor: 0,
      });
      const first = await welcomed(socket);
      await socket.emitWithAck("join", "xrec");
      await socket.emitWithAck("set-data", { kept: true });
      const other = client(servers[1].url, { transports: ["websocket"] });
      await welcomed(other);
      const dropped = once(socket, "disconnect", 5000);
      victim.proc.kill("SIGKILL");
      await dropped;
      await other.emitWithAck("to-room", "xrec", "missed", 1);
      const got = [];
      socket.on("missed", (n) => got.push(n));
      const again = await once(socket, "welcome", 10_000);
      assert.deepEqual(again, { id: first.id, recovered: true });
      assert.deepEqual(got, [1]);
      assert.deepEqual(await socket.emitWithAck("get-data"), { kept: true });
    } finally {
      await lb.close();
    }
  });
});

// Sessions ride out a Redis restart shorter than their heartbeat window, so this cluster
// has a ping timeout longer than the outage the test allows itself (an answer within 5 s,
// then a relaunch): the suite above pings every 500 ms and times out after 1,000, which a
// restart on a loaded machine outlasts.
describe("a Redis restart under several processes", () => {
  const c = cluster({ args: ["--ping-timeout", "10000"] });
  const { servers, client } = c;

  it("rides out a Redis restart: clean errors meanwhile, then carries on", async () => {
    const socket = client(servers[0].url, { transports: ["websocket"] });
    await welcomed(socket);
    await socket.emitWithAck("set-data", { before: "restart" });
    await c.redis.kill();
    const started = Date.now();
    const refused = await fetch(`${servers[1].url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(refused.status, 503, "no session without a store");
    assert.deepEqual(await refused.json(), { code: 3, message: "Session store unavailable" });
    assert.ok(Date.now() - started < 5000, "an outage answers promptly, it does not hang");
    await c.redis.launch();
    assert.deepEqual(await socket.timeout(5000).emitWithAck("get-data"), { before: "restart" });
    assert.equal(await socket.timeout(5000).emitWithAck("echo", "after"), "after");
    // The connect of this polling session may land on one process before the other,
    // where its GET waits, has subscribed to the relay again: the wake published then is
    // lost, so each process wakes its waiting GETs once it has subscribed.
    const fresh = client(c.front.url, { transports: ["polling"] });
    await welcomed(fresh);
    assert.equal(await fresh.timeout(5000).emitWithAck("echo", "new"), "new");
    // The first relay commands of each process after the restart (recording the holders
    // of new WebSockets, looking them up to deliver) are carried out, not lost with the
    // connection Redis dropped: lost, a WebSocket's broadcasts and pings from the other
    // processes go nowhere.
    const held = [0, 1].map((i) => client(servers[i].url, { transports: ["websocket"] }));
    await Promise.all(held.map(welcomed));
    for (const s of held) await s.emitWithAck("join", "xrestart");
    const sender = client(servers[2].url, { transports: ["polling"] });
    await welcomed(sender);
    const got = held.map((s) => once(s, "after-restart", 3000));
    await sender.timeout(5000).emitWithAck("to-room", "xrestart", "after-restart", 1);
    assert.deepEqual(await Promise.all(got), [1, 1]);
  });
});

describe("a relay subscription lost while a session ends", () => {
  // A heartbeat lapse takes 10.5 s here: a WebSocket closed sooner was closed by the relay.
  const c = cluster({ args: ["--ping-timeout", "10000"] });
  const { servers, client } = c;

  it("closes a WebSocket whose session another process ended meanwhile", async () => {
    const a = client(servers[0].url, { transports: ["websocket"] });
    const b = client(servers[1].url, { transports: ["websocket"] });
    await Promise.all([welcomed(a), welcomed(b)]);
    await b.emitWithAck("join", "xaway");
    // No process can subscribe to the relay for a while (as when Redis restarts), so the
    // close that a's process publishes for b's session reaches no one.
    const deny = ["-subscribe", "-psubscribe", "-ssubscribe"];
    assert.equal(await c.redis.command("ACL", "SETUSER", "default", ...deny), "+OK");
    assert.match(await c.redis.command("CLIENT", "KILL", "TYPE", "pubsub"), /^:[1-9]/);
    assert.equal(await a.emitWithAck("disconnect-room", "xaway", true), "ok");
    await never(b, "disconnect", 1000);
    const gone = once(b, "disconnect", 4000);
    assert.equal(await c.redis.command("ACL", "SETUSER", "default", ...deny.map((d) => "+" + d.slice(1))), "+OK");
    // Subscribed again, b's process finds the session gone and closes its WebSocket.
    assert.equal(await gone, "transport close");
    assert.equal(await a.timeout(3000).emitWithAck("echo", "still"), "still");
  });
});

// A regression test for a race, so it runs many times over: a process that found no
// WebSocket for a session a moment before another process upgraded it used to queue the
// session's next packets (here the welcome emitted on connect) where no one read them. A
// cluster of its own, on a Redis that does not fsync every write: a burst of this size
// would keep the durable Redis of the tests above busy for seconds.
describe("two processes upgrading sessions at once", () => {
  const c = cluster({ durable: false, count: 2 });
  const { servers, client } = c;

  it("gives every session upgraded mid-connect its first events, 400 times over", async () => {
    const lost = [];
    for (let round = 0; round < 4; round++) {
      const sockets = Array.from({ length: 50 }, (_, i) => {
        const url = i % 3 ? servers[i % 2].url : c.front.url;
        return client(url, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
      });
      const first = await Promise.allSettled(sockets.map((s) => once(s, "welcome", 5000)));
      const again = sockets.map((s) => once(s, "welcome", 5000));
      for (const s of sockets) s.io.engine.close();
      const second = await Promise.allSettled(again);
      for (const [i, s] of sockets.entries()) {
        if (first[i].status === "rejected") lost.push(`round ${round}: no welcome on connect`);
        if (second[i].status === "rejected") lost.push(`round ${round}: no welcome on reconnect`);
        else if (!second[i].value.recovered) lost.push(`round ${round}: reconnect not recovered`);
        s.close();
      }
    }
    assert.deepEqual(lost, []);
  });
});

describe("a process that shuts down (SIGTERM)", () => {
  const c = cluster({ durable: false, count: 2 });
  const { servers, client } = c;

  it("closes the sessions it holds, whose disconnect handlers run, and exits", async () => {
    const leaving = client(servers[0].url, { transports: ["websocket"] });
    const staying = client(servers[1].url, { transports: ["websocket"] });
    await Promise.all([welcomed(leaving), welcomed(staying)]);
    for (const s of [leaving, staying]) await s.emitWithAck("join", "shutdown-room");
    const id = leaving.id;
    const left = once(staying, "left", 5000);
    const disconnected = once(leaving, "disconnect", 5000);
    const exited = new Promise((resolve) => servers[0].proc.once("exit", (code, signal) => resolve({ code, signal })));
    servers[0].proc.kill("SIGTERM");
    assert.deepEqual(await left, { id, reason: "server shutting down" });
    assert.equal(await disconnected, "transport close");
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.equal(await staying.timeout(3000).emitWithAck("echo", "still here"), "still here");
  });
});
