// Shared by the Node end-to-end tests: start a server binary on a free port, connect the
// official client, wait for events with a bound.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { io } from "socket.io-client";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let started = 0;

/**
 * Starts `target/release/<bin> --port 0` (or `$E2E_SERVER`), with `$E2E_SERVER_ARGS`
 * appended (e.g. `--redis redis://127.0.0.1:6390/`), and resolves once it listens.
 * A server that gets its Redis from `$E2E_SERVER_ARGS` gets a key prefix of its own too:
 * test servers started side by side on one Redis would otherwise silently form one
 * cluster (a test that wants a cluster passes `--redis` in `args` itself).
 */
export async function startServer(bin = "e2e-server", args = []) {
  const exe = process.env.E2E_SERVER ?? path.join(root, "target/release", bin);
  const extra = (process.env.E2E_SERVER_ARGS ?? "").split(" ").filter(Boolean);
  if (extra.includes("--redis") && !args.includes("--redis")) {
    extra.push("--redis-prefix", `sio:test:${process.pid}-${++started}:`);
  }
  const proc = spawn(exe, ["--port", "0", ...args, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stderr.on("data", (d) => {
    log += d;
    if (log.length > 200_000) log = log.slice(-100_000);
  });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${exe} did not start:\n${log}`)), 15_000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => reject(new Error(`${exe} exited with ${code}:\n${log}`)));
  });
  return {
    url: process.env.E2E_CAPTURE ? await capture(url, process.env.E2E_CAPTURE) : url,
    proc,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once("exit", resolve);
        proc.kill("SIGTERM");
      }),
  };
}

/** The value after `name` on this process's command line (the runtime launchers). */
export function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/**
 * A launcher's heartbeat and limit flags (`--ping-interval MS`, `--max-sessions N`, ...,
 * as e2e-server takes them), as the runtime's settings (`SIO_PING_INTERVAL`,
 * `SIO_MAX_SESSIONS`, ...): the runtimes read the heartbeat, the test apps the limits.
 */
export function launcherSettings() {
  const settings = {};
  for (const name of ["ping-interval", "ping-timeout", ...LIMITS]) {
    const value = flag(`--${name}`);
    if (value) settings[`SIO_${name.toUpperCase().replaceAll("-", "_")}`] = value;
  }
  return settings;
}
// And the e2e app's scheduled handler (tests/CONTRACT.md), off unless given.
const LIMITS = ["max-sessions", "max-buffered-packets", "max-namespaces", "max-rooms", "max-pending-acks", "tick-ms"];

/** A TCP port free on the loopback interface at the time of asking. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let captured = 0;

/**
 * With `$E2E_CAPTURE` set to a folder, the tests reach the server through this proxy, which
 * writes what each client connection sent to a file of its own: the real traffic the fuzz
 * seeds are cut from (`fuzz/seeds.py`).
 */
async function capture(url, dir) {
  const { hostname, port } = new URL(url);
  fs.mkdirSync(dir, { recursive: true });
  const proxy = net.createServer((client) => {
    const file = path.join(dir, `${process.pid}-${captured++}.bin`);
    const upstream = net.connect(Number(port), hostname);
    client.on("data", (d) => fs.appendFileSync(file, d));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const side of [client, upstream]) side.on("error", end).on("close", end);
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxy.unref();
  return `http://127.0.0.1:${proxy.address().port}`;
}

/**
 * Resolves with the first argument of the next `event` on `emitter`, rejects after `ms`.
 * (With connection state recovery on, as in Node, events carry their offset as an extra
 * last argument; `onceAll` shows it.)
 */
export async function once(emitter, event, ms = 3000) {
  return (await onceAll(emitter, event, ms))[0];
}

/** Resolves with all the arguments of the next `event`. */
export function onceAll(emitter, event, ms = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no "${event}" within ${ms} ms`));
    }, ms);
    const handler = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, handler);
  });
}

/** Resolves once `check()` holds, checking every few ms; rejects after `ms`. */
export async function until(check, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not so within ${ms} ms: ${check}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves if `event` does NOT arrive within `ms`. */
export function never(emitter, event, ms = 300) {
  return new Promise((resolve, reject) => {
    const handler = (...args) => {
      clearTimeout(timer);
      reject(new Error(`unexpected "${event}": ${JSON.stringify(args)}`));
    };
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      resolve();
    }, ms);
    emitter.once(event, handler);
  });
}

/** Connects to `nsp` and resolves with the socket and its `welcome` payload (namespace `/`). */
// API Gateway closes a WebSocket that sends a binary frame (1003), so clients of the
// Lambda runtime send binary messages as base64 text, as docs/aws.md tells them to.
const base64 = process.env.E2E_RUNTIME === "lambda" ? { forceBase64: true } : {};

export async function connect(url, { nsp = "/", transports, ...opts } = {}) {
  const socket = io(url + nsp, { transports, forceNew: true, reconnection: false, ...base64, ...opts });
  const welcome = nsp === "/" ? once(socket, "welcome", 5000) : null;
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { socket, welcome: await welcome };
}

/** Resolves once the client's engine runs on `name`. */
export async function transportIs(socket, name, ms = 3000) {
  const deadline = Date.now() + ms;
  while (socket.io.engine.transport.name !== name) {
    if (Date.now() > deadline) throw new Error(`transport still ${socket.io.engine.transport.name}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const TRANSPORTS = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};
