#!/usr/bin/env node
// Measures the Cloudflare runtime under workerd (and, for comparison, any server of the e2e
// contract): storage used per inbound event and echo acks per second of one object.
//   node tests/edge/measure.mjs [server executable, default tests/edge/serve.mjs]
// Storage figures come from the objects' /__sio/object/NAME/stats (edge only).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, connect, once } from "../js/harness.mjs";

process.env.E2E_SERVER = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "serve.mjs");
const edge = process.env.E2E_SERVER.endsWith("serve.mjs");
// The reference heartbeat (25 s / 20 s): with the e2e app's 1 s timeout a pong queued
// behind thousands of events in one object would time the session out.
// One object, whose storage the figures are.
const server = await startServer(
  "e2e-server",
  edge ? ["--objects", "1", "--ping-interval", "25000", "--ping-timeout", "20000"] : [],
);
const stats = async () => (edge ? (await fetch(`${server.url}/__sio/object/o0/stats`)).json() : null);

const a = (await connect(server.url, { transports: ["websocket"] })).socket;
const b = (await connect(server.url, { transports: ["websocket"] })).socket;
await a.emitWithAck("join", "m");
await b.emitWithAck("join", "m");

async function perEvent(label, n, run) {
  await stats();
  for (let i = 0; i < n; i++) await run(i);
  const s = await stats();
  if (s) {
    const per = (k) => (s.storage[k] / n).toFixed(1);
    console.log(`${label}: ${per("statements")} statements, ${per("rows_read")} rows read, ${per("rows_written")} rows written per event`);
  }
}

await perEvent("echo with ack", 50, (i) => a.emitWithAck("echo", i));
await perEvent("room broadcast (2 members)", 50, async (i) => {
  const got = once(b, "m", 3000);
  await a.emitWithAck("to-room", "m", "m", i);
  await got;
});

const N = 2000;
const t0 = performance.now();
for (let i = 0; i < N; i++) await a.emitWithAck("echo", i);
const secs = (performance.now() - t0) / 1000;
console.log(`echo acks/s, one client, sequential: ${(N / secs).toFixed(0)}`);
const t1 = performance.now();
await Promise.all(Array.from({ length: N }, (_, i) => a.emitWithAck("echo", i)));
console.log(`echo acks/s, one client, ${N} in flight: ${(N / ((performance.now() - t1) / 1000)).toFixed(0)}`);
a.close();
b.close();
await server.stop();
