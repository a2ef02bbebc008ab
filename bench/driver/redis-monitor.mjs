// Shared by the cost drivers (redis.mjs, lambda.mjs): a redis-server of their own, Redis
// round trips per inbound event counted from MONITOR, and processes that are stopped with
// the driver.
import { spawn } from "node:child_process";
import net from "node:net";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const started = [];
process.on("exit", () => started.forEach((p) => p.exitCode === null && p.kill("SIGKILL")));
process.on("SIGINT", () => process.exit(130));

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function launch(cmd, args) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  started.push(proc);
  let err = "";
  proc.stderr.on("data", (d) => (err = (err + d).slice(-4000)));
  proc.stop = () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", resolve);
      proc.kill("SIGTERM");
    });
  proc.errors = () => err;
  return proc;
}

/** Launches a server that prints `listening on URL` and waits for it; `proc.url` is that URL. */
export async function listening(cmd, args) {
  const proc = launch(cmd, args);
  proc.url = await new Promise((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    proc.on("exit", (code) => reject(new Error(`${cmd} ${args[0]} exited with ${code}: ${proc.errors()}`)));
  });
  return proc;
}

/** One RESP command on a fresh connection; resolves with the raw reply. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    let reply = "";
    s.on("data", (d) => {
      reply += d;
      if (reply.endsWith("\r\n")) {
        s.end();
        resolve(reply);
      }
    });
    s.on("error", reject);
    s.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(""));
  });
}

export async function startRedis() {
  const port = await freePort();
  const proc = launch("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  for (let i = 0; i < 100; i++) {
    try {
      if ((await redisCommand(port, "PING")).startsWith("+PONG")) return { proc, port, url: `redis://127.0.0.1:${port}/` };
    } catch {}
    await sleep(50);
  }
  throw new Error("redis-server did not start");
}

/** MONITOR on its own connection: every command Redis runs, one line each. */
export function monitor(port) {
  const lines = [];
  const s = net.connect(port, "127.0.0.1", () => s.write("MONITOR\r\n"));
  let buf = "";
  s.on("data", (d) => {
    buf += d;
    const parts = buf.split("\r\n");
    buf = parts.pop();
    for (const p of parts) if (p.startsWith("+") && p !== "+OK") lines.push(p.slice(1));
  });
  return { lines, close: () => s.destroy() };
}

const LINE = /^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/;
const words = (rest) => [...rest.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);

/** Round trips and commands in MONITOR lines, less the sweeper's polling and markers. */
function tally(lines) {
  const inMulti = new Map();
  let roundTrips = 0;
  let sweeper = 0;
  const commands = {};
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m || m[1] === "lua") continue;
    const [name, ...args] = words(m[2]);
    const cmd = name.toUpperCase();
    if (cmd === "ECHO" || cmd === "MONITOR") continue;
    const sweeping =
      (cmd === "EVALSHA" && args[1] === "1" && /deadlines$/.test(args[2])) ||
      (cmd === "ZRANGEBYSCORE" && /ackdeadlines$/.test(args[0]));
    if (sweeping) {
      sweeper++;
      continue;
    }
    if (cmd === "MULTI") {
      inMulti.set(m[1], true);
      continue;
    }
    if (cmd === "EXEC") {
      inMulti.set(m[1], false);
      roundTrips++;
      continue;
    }
    commands[cmd] = (commands[cmd] ?? 0) + 1;
    if (!inMulti.get(m[1])) roundTrips++;
  }
  return { roundTrips, commands, sweeper };
}

export async function marked(port, mon, label, action) {
  await sleep(150);
  await redisCommand(port, "ECHO", `${label}:begin`);
  await sleep(20);
  const begin = mon.lines.length;
  const t0 = Date.now();
  const n = await action();
  await sleep(150);
  const ms = Date.now() - t0;
  await redisCommand(port, "ECHO", `${label}:end`);
  await sleep(20);
  const t = tally(mon.lines.slice(begin));
  const perEvent = Object.fromEntries(Object.entries(t.commands).map(([k, v]) => [k, +(v / n).toFixed(2)]));
  return { scenario: label, events: n, round_trips_per_event: +(t.roundTrips / n).toFixed(2), commands_per_event: perEvent, sweeper_per_s: +((t.sweeper * 1000) / ms).toFixed(1) };
}

export const connected = (socket) =>
  new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });

