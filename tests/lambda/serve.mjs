#!/usr/bin/env node
// Serves Lambda functions (sio-lambda: one binary, three roles) as the e2e server contract asks: `serve.mjs --port 0`
// prints `listening on http://127.0.0.1:PORT` first, and SIGTERM stops it and everything it
// started. So `E2E_SERVER=tests/lambda/serve.mjs` runs the native runtime's end-to-end
// suites, Node and Python, unchanged against the AWS runtime, with no AWS account:
//
// - a real redis-server on a free loopback port (or `--redis URL`);
// - `cargo lambda watch` (PyPI cargo-lambda): the Lambda runtime API, through which the
//   real function binaries (several instances of each) take their invocations;
// - a stand-in for API Gateway's HTTP API: each request becomes a payload 2.0 event for
//   `sio-http`, its body base64-encoded (`isBase64Encoded`) unless it is UTF-8 text, as
//   API Gateway passes a binary body (cargo lambda's function URLs answer a text body
//   that is not UTF-8 with a 500 of their own before the function sees it);
// - a small stand-in for API Gateway's WebSocket API: each WebSocket's `$connect`,
//   text messages (`$default`; a binary frame closes the connection with 1003, as API
//   Gateway's does) and close (`$disconnect`) invoke `sio-websocket`, and the
//   Management API (`@connections/{id}`: POST, GET, DELETE; 410 for unknown ids, 413 over
//   128 KB) reaches the WebSockets; idle and maximum-duration closes as API Gateway's;
// - Lambda's asynchronous Invoke API (202 at once, the invocation runs afterwards), which
//   cargo lambda answers synchronously;
// - the scheduled sweeper, invoked every `--sweep-every` ms.
// All of it behind one port, so a client uses one URL for polling and WebSocket.
//
//   --port N              0 (the default) picks a free port
//   --app NAME            e2e (default, or $LAMBDA_APP), chat, conformance-engine, ...
//   --redis URL           use this Redis instead of starting one
//   --ping-interval MS, --ping-timeout MS   override the app's heartbeat
//   --max-sessions N, --max-buffered-packets N, --max-namespaces N, --max-rooms N,
//   --max-pending-acks N   the app's limits, as e2e-server takes them
//   --tick-ms MS          the e2e app's scheduled handler (tests/CONTRACT.md)
//   --sweep-every MS      how often the sweeper runs (default 100; EventBridge: 60000)
//   --sweep-for MS        how long each sweeper run keeps sweeping (SIO_SWEEP_FOR_MS)
//   --http-instances N    instances of the HTTP function (default 64)
//   --idle-timeout MS     WebSocket idle close (default 600000, API Gateway's 10 minutes)
//   --max-duration MS     WebSocket maximum life (default 7200000, API Gateway's 2 hours)
//   --post-delay MS       hold each Management API POST a random 0..MS first, as a busy
//                         API Gateway may: posts of concurrent invocations cross
//   --profile NAME        the binary of target/NAME (default release, or $LAMBDA_PROFILE):
//                         `cargo build --release -p sio-test-apps` first
//   --bin PATH            the functions' binary (default target/PROFILE/sio-test-lambda,
//                         which serves the application --app names); each function runs
//                         it with SIO_FUNCTION set to its role
// Function logs go to stderr ($SIO_LOG sets RUST_LOG, warn by default).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { isUtf8 } from "node:buffer";
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { flag, freePort, launcherSettings } from "../js/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "tests/package.json"));
const { WebSocketServer } = require("ws");

/** API Gateway's largest WebSocket message (and Management API POST body). */
const MAX_MESSAGE = 128 * 1024;
const app = flag("--app", process.env.LAMBDA_APP ?? "e2e");
const sweepEvery = Number(flag("--sweep-every", "100"));
const idleTimeout = Number(flag("--idle-timeout", "600000"));
const maxDuration = Number(flag("--max-duration", "7200000"));
const postDelay = Number(flag("--post-delay", "0"));
const profile = flag("--profile", process.env.LAMBDA_PROFILE ?? "release");
/**
 * Instances of each function. Every polling client holds one `sio-http` instance with its
 * parked GET (up to 20 s at a time), as on AWS, where each GET is an invocation of its
 * own: a test that keeps 30 polling clients open needs 30 instances and more.
 */
const INSTANCES = { "sio-http": Number(flag("--http-instances", "64")), "sio-websocket": 4, "sio-sweeper": 1 };
/** The role (`SIO_FUNCTION`) of each function. */
const ROLES = { "sio-http": "http", "sio-websocket": "websocket", "sio-sweeper": "sweeper" };

const children = [];
let stopping = false;
let sweeper = null;
const front = http.createServer();
/** Open connections by id: only those whose `$connect` returned take Management API calls. */
const connections = new Map();
// From the start: a launcher stopped while it starts stops what it has started so far.
process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));

function start(cmd, args, options) {
  // A process group of its own, so that stopping it stops whatever it started too.
  // Their output goes to stderr: stdout carries the address line alone.
  const child = spawn(cmd, args, { stdio: ["ignore", 2, 2], detached: true, ...options });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${cmd} exited (${code ?? signal})`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

async function until(what, probe, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function connects(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => socket.end(() => resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

let redisUrl = flag("--redis");
if (!redisUrl) {
  const port = await freePort();
  start("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  await until("redis-server", () => connects(port), 10_000);
  redisUrl = `redis://127.0.0.1:${port}/`;
}

await new Promise((resolve) => front.listen(Number(flag("--port", "0")), "127.0.0.1", resolve));
const frontUrl = `http://127.0.0.1:${front.address().port}`;

const lambdaPort = await freePort();
const env = {
  SIO_APP: app,
  SIO_REDIS_URL: redisUrl,
  // A prefix of its own: several launchers may share one Redis.
  SIO_REDIS_PREFIX: `sio:lambda:${randomUUID()}:`,
  SIO_WS_ENDPOINT: `${frontUrl}/__apigw`,
  SIO_LAMBDA_ENDPOINT: `${frontUrl}/__lambda`,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "AKIDLOCALTEST",
  AWS_SECRET_ACCESS_KEY: "local-test-secret",
  RUST_LOG: process.env.SIO_LOG ?? "warn",
};
Object.assign(env, launcherSettings());
const sweepFor = flag("--sweep-for");
if (sweepFor) env.SIO_SWEEP_FOR_MS = sweepFor;
const cargoLambda = process.env.CARGO_LAMBDA ?? "cargo-lambda";
// The runtime API alone: the functions are the built binaries, started here so that each
// has its instances up before the first client (cargo lambda would `cargo run` one per
// invocation it cannot place, seconds each on a busy machine).
start(
  cargoLambda,
  ["lambda", "watch", "--only-lambda-apis", "--disable-cors", "-A", "127.0.0.1", "-P", String(lambdaPort)],
  // The functions' names (a manifest of their own): cargo lambda takes invocations only
  // for functions named after a binary of its project.
  { cwd: path.join(root, "tests/lambda/functions") },
);
await until("cargo lambda watch", () => connects(lambdaPort), 60_000);
const binary = path.resolve(flag("--bin", path.join(root, "target", profile, "sio-test-lambda")));
for (const [fn, count] of Object.entries(INSTANCES)) {
  for (let i = 0; i < count; i++) {
    start(binary, [], {
      env: {
        ...process.env,
        ...env,
        AWS_LAMBDA_RUNTIME_API: `http://127.0.0.1:${lambdaPort}/.rt/${fn}`,
        AWS_LAMBDA_FUNCTION_NAME: fn,
        SIO_FUNCTION: ROLES[fn],
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
      },
    });
  }
}

/**
 * What the stand-ins saw, for the cost benchmark (bench/lambda.sh): Management API calls,
 * and each function's invocations with how long each took to answer, in ms. Served at
 * `GET /__emulator/stats`; `?reset` starts the counts again.
 */
let stats;
const resetStats = () => (stats = { posts: 0, deletes: 0, invocations: {} });
resetStats();

/** Invokes a function synchronously through cargo lambda's Invoke API. */
async function invoke(fn, event) {
  const started = performance.now();
  try {
    return await invokeNow(fn, event);
  } finally {
    (stats.invocations[fn] ??= []).push(+(performance.now() - started).toFixed(3));
  }
}

async function invokeNow(fn, event) {
  const res = await fetch(`http://127.0.0.1:${lambdaPort}/2015-03-31/functions/${fn}/invocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(event),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${fn}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// --- API Gateway's WebSocket API --------------------------------------------------------

const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });

function wsEvent(routeKey, eventType, connectionId, extra = {}) {
  const now = Date.now();
  return {
    requestContext: {
      routeKey,
      eventType,
      connectionId,
      messageDirection: "IN",
      stage: "local",
      apiId: "local",
      domainName: "127.0.0.1",
      requestId: randomUUID(),
      connectedAt: connections.get(connectionId)?.connectedAt ?? now,
      requestTimeEpoch: now,
      identity: { sourceIp: "127.0.0.1" },
    },
    isBase64Encoded: false,
    ...extra,
  };
}

function headersOf(req) {
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(",") : v;
  return headers;
}

front.on("upgrade", async (req, socket, head) => {
  socket.on("error", () => {});
  const url = new URL(req.url, frontUrl);
  const connectionId = randomBytes(12).toString("base64");
  const query = Object.fromEntries(url.searchParams);
  let answer;
  try {
    answer = await invoke(
      "sio-websocket",
      wsEvent("$connect", "CONNECT", connectionId, { headers: headersOf(req), queryStringParameters: query }),
    );
  } catch (e) {
    console.error(`$connect failed: ${e.message}`);
    answer = { statusCode: 500, body: "" };
  }
  if (answer?.statusCode !== 200) {
    const body = answer?.body ?? "";
    socket.end(
      `HTTP/1.1 ${answer?.statusCode ?? 500} Refused\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, connectionId));
});

function serveConnection(ws, connectionId) {
  const conn = { ws, connectedAt: Date.now(), lastActive: Date.now(), idle: null };
  connections.set(connectionId, conn);
  const touch = () => {
    conn.lastActive = Date.now();
    clearTimeout(conn.idle);
    conn.idle = setTimeout(() => ws.close(1001, "Going away"), idleTimeout);
  };
  conn.touch = touch;
  touch();
  const cap = setTimeout(() => ws.close(1001, "Going away"), maxDuration);
  // Messages invoke `$default` one after another, in the order they arrived.
  let chain = Promise.resolve();
  ws.on("message", (data, isBinary) => {
    // API Gateway takes text frames alone: a binary frame closes the connection with 1003
    // ("Binary media types for WebSocket APIs"), and the functions never see it.
    if (isBinary) return ws.close(1003, "Binary frames are not supported");
    touch();
    const event = wsEvent("$default", "MESSAGE", connectionId, { body: data.toString() });
    chain = chain.then(() => invoke("sio-websocket", event).catch((e) => console.error(`$default: ${e.message}`)));
  });
  ws.on("error", () => {});
  ws.on("close", () => {
    clearTimeout(conn.idle);
    clearTimeout(cap);
    connections.delete(connectionId);
    const event = wsEvent("$disconnect", "DISCONNECT", connectionId);
    chain = chain.then(() => invoke("sio-websocket", event).catch((e) => console.error(`$disconnect: ${e.message}`)));
  });
}

/** Calls to AWS APIs must be SigV4-signed by the functions' credentials. */
function signed(req) {
  const auth = req.headers.authorization ?? "";
  return auth.startsWith(`AWS4-HMAC-SHA256 Credential=${env.AWS_ACCESS_KEY_ID}/`) && req.headers["x-amz-date"];
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function reply(res, status, body = "", type = "application/json") {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function management(req, res, connectionId) {
  const conn = connections.get(connectionId);
  if (!conn) return reply(res, 410, JSON.stringify({ message: "GoneException" }));
  if (req.method === "GET") {
    const info = {
      connectedAt: new Date(conn.connectedAt).toISOString(),
      lastActiveAt: new Date(conn.lastActive).toISOString(),
      identity: { sourceIp: "127.0.0.1" },
    };
    return reply(res, 200, JSON.stringify(info));
  }
  if (req.method === "DELETE") {
    stats.deletes++;
    conn.ws.close(1000);
    return reply(res, 204);
  }
  if (req.method !== "POST") return reply(res, 405);
  stats.posts++;
  const body = await readBody(req);
  if (body.length > MAX_MESSAGE) return reply(res, 413, JSON.stringify({ message: "PayloadTooLargeException" }));
  if (postDelay) await new Promise((resolve) => setTimeout(resolve, Math.random() * postDelay));
  if (!connections.has(connectionId)) return reply(res, 410, JSON.stringify({ message: "GoneException" }));
  conn.touch();
  // A text frame: the functions post text alone (lambda/src/host.rs, `ws_outs`).
  await new Promise((resolve) => conn.ws.send(body.toString(), { binary: false }, resolve));
  return reply(res, 200);
}

// --- Lambda's asynchronous Invoke API -------------------------------------------------

async function asyncInvoke(req, res, fn) {
  if (req.headers["x-amz-invocation-type"] !== "Event") return reply(res, 400, '{"message":"async only"}');
  const event = JSON.parse((await readBody(req)).toString() || "null");
  reply(res, 202);
  invoke(fn, event).catch((e) => console.error(`async ${fn}: ${e.message}`));
}

// --- the HTTP API ---------------------------------------------------------------------

/** Content types whose body API Gateway passes as text when it is valid UTF-8. */
const TEXT_BODY = /^\s*(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)\b)/i;

async function httpApi(req, res) {
  const body = await readBody(req);
  const url = new URL(req.url, frontUrl);
  const text = TEXT_BODY.test(req.headers["content-type"] ?? "") && isUtf8(body);
  const headers = headersOf(req);
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const now = Date.now();
  const event = {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: url.host,
      domainPrefix: "local",
      http: {
        method: req.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: "127.0.0.1",
        userAgent: req.headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    ...(body.length ? { body: text ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
  let answer;
  try {
    answer = await invoke("sio-http", event);
  } catch (e) {
    console.error(`HTTP API: ${e.message}`);
    return reply(res, 500, JSON.stringify({ message: "Internal Server Error" }));
  }
  const out = Buffer.from(answer?.body ?? "", answer?.isBase64Encoded ? "base64" : "utf8");
  const outHeaders = { ...answer?.multiValueHeaders, ...answer?.headers, "content-length": out.length };
  if (answer?.cookies?.length) outHeaders["set-cookie"] = answer.cookies;
  res.writeHead(answer?.statusCode ?? 500, outHeaders);
  res.end(out);
}

front.on("request", async (req, res) => {
  try {
    const url = new URL(req.url, frontUrl);
    const gateway = /^\/__apigw\/@connections\/([^/]+)$/.exec(url.pathname);
    const lambda = /^\/__lambda\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (url.pathname === "/__emulator/stats") {
      reply(res, 200, JSON.stringify(stats));
      if (url.searchParams.has("reset")) resetStats();
      return;
    }
    if (gateway || lambda) {
      if (!signed(req)) return reply(res, 403, '{"message":"missing or foreign signature"}');
      if (gateway) return await management(req, res, decodeURIComponent(gateway[1]));
      return await asyncInvoke(req, res, decodeURIComponent(lambda[1]));
    }
    await httpApi(req, res);
  } catch (e) {
    console.error(`front: ${e.stack}`);
    if (!res.headersSent) reply(res, 500, JSON.stringify({ message: e.message }));
  }
});

// --- the schedule ---------------------------------------------------------------------

// Every function answers before the first client comes (a `$disconnect` of a connection
// nobody knows changes nothing); a sweeper run that keeps sweeping answers only at its
// end, so its first scheduled run is its warm-up.
if (!sweepFor) await invoke("sio-sweeper", {});
await invoke("sio-websocket", wsEvent("$disconnect", "DISCONNECT", "warm-up"));

let sweeping = false;
sweeper = setInterval(async () => {
  if (sweeping || stopping) return;
  sweeping = true;
  await invoke("sio-sweeper", { source: "aws.events", "detail-type": "Scheduled Event" }).catch((e) =>
    console.error(`sweeper: ${e.message}`),
  );
  sweeping = false;
}, sweepEvery);

console.log(`listening on ${frontUrl}`);

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(sweeper);
  for (const conn of connections.values()) conn.ws.terminate();
  front.close();
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  }
  setTimeout(() => process.exit(code), 200);
}
