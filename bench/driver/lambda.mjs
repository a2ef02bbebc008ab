// What the AWS runtime costs per inbound event, on this machine with no AWS account: the
// real function binaries under cargo lambda's runtime API behind the API Gateway stand-in
// of tests/lambda/serve.mjs, on a redis-server of this driver's own.
//
// Per scenario (echo with ack; room broadcasts to N WebSocket members), per inbound event:
// - Redis round trips, counted from MONITOR as redis.mjs counts them (a MULTI…EXEC block or
//   a script is one; the sweeper, run once a minute here, is counted apart);
// - Management API calls (POST, DELETE) and function invocations, from the stand-in's
//   counts (`/__emulator/stats`);
// - the `$default` invocation's time to answer, as the stand-in waits for it (median,
//   p90; a handler may go on after the answer), and each event's time until its sender
//   has the ack and every member the broadcast, as the clients see it. Times come from a
//   first pass with no MONITOR attached, counts from a second under it.
// And the stripped sizes of the three function binaries.
//
//   node bench/driver/lambda.mjs     (bench/lambda.sh builds what it needs first)
//
// Environment: CARGO_LAMBDA (the cargo-lambda binary), QUICK=1 (fewer events). Writes
// bench/results/lambda.{jsonl,md} (QUICK: lambda-quick.*).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { connected, listening, marked, monitor, startRedis } from "./redis-monitor.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const QUICK = process.env.QUICK === "1";
const NAME = QUICK ? "lambda-quick" : "lambda";
const EVENTS = QUICK ? 20 : 200;
const ROOMS = QUICK ? [10] : [10, 100];
const log = (...a) => console.error(`[bench lambda ${new Date().toISOString().slice(11, 19)}]`, ...a);

function startStandIn(redisUrl) {
  return listening("node", [
    path.join(ROOT, "tests/lambda/serve.mjs"),
    "--port", "0",
    "--app", "e2e",
    "--redis", redisUrl,
    // A sweep a minute, as EventBridge schedules it, and a heartbeat that fits: clients
    // that get no ping within interval + timeout give up on their connection.
    "--sweep-every", "60000",
    "--ping-interval", "240000",
    "--ping-timeout", "60000",
  ]);
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : null;
};

/** The stand-in's counts since the last call, per event. */
async function standIn(url, events) {
  const stats = await (await fetch(`${url}/__emulator/stats?reset`)).json();
  const handled = stats.invocations["sio-websocket"] ?? [];
  return {
    posts_per_event: +(stats.posts / events).toFixed(2),
    deletes_per_event: +(stats.deletes / events).toFixed(2),
    invocations_per_event: Object.fromEntries(
      Object.entries(stats.invocations).map(([fn, times]) => [fn, +(times.length / events).toFixed(2)]),
    ),
    handler_ms_p50: percentile(handled, 50),
    handler_ms_p90: percentile(handled, 90),
  };
}

/** The functions' one binary (all three roles), stripped. */
function strippedSizes() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sio-lambda-sizes-"));
  const bin = "sio-test-lambda";
  const out = path.join(dir, bin);
  execFileSync("strip", ["-o", out, path.join(ROOT, "target/release", bin)]);
  return { [bin]: statSync(out).size };
}

async function costs() {
  const redis = await startRedis();
  const server = await startStandIn(redis.url);
  const clients = [];
  const ws = async () => {
    const s = io(server.url, { transports: ["websocket"], forceNew: true, reconnection: false });
    clients.push(s);
    await connected(s);
    return s;
  };
  const rows = [];
  // Each scenario runs twice: timed with no MONITOR attached (MONITOR slows Redis by a line
  // for every command, those a script runs too), then counted under MONITOR.
  const measure = async (label, event) => {
    await fetch(`${server.url}/__emulator/stats?reset`);
    const done = [];
    for (let i = 0; i < EVENTS; i++) {
      const started = performance.now();
      await event();
      done.push(performance.now() - started);
    }
    const timed = await standIn(server.url, EVENTS);
    const mon = monitor(redis.port);
    const row = await marked(redis.port, mon, label, async () => {
      for (let i = 0; i < EVENTS; i++) await event();
      return EVENTS;
    });
    mon.close();
    const counted = await standIn(server.url, row.events);
    const ms = (p) => +percentile(done, p).toFixed(3);
    rows.push({
      ...row,
      ...counted,
      handler_ms_p50: timed.handler_ms_p50,
      handler_ms_p90: timed.handler_ms_p90,
      done_ms_p50: ms(50),
      done_ms_p90: ms(90),
    });
    log(JSON.stringify(rows.at(-1)));
  };
  try {
    const sender = await ws();
    await measure("echo with ack (WebSocket)", () => sender.emitWithAck("echo", "x"));
    for (const n of ROOMS) {
      const room = `r${n}`;
      const members = [];
      for (let i = 0; i < n; i++) members.push(await ws());
      await Promise.all(members.map((m) => m.emitWithAck("join", room)));
      let received = 0;
      members.forEach((m) => m.on("room-event", () => received++));
      let sent = 0;
      await measure(`room broadcast to ${n} WebSockets`, async () => {
        await sender.emitWithAck("to-room", room, "room-event", sent);
        sent++;
        while (received < sent * n) await new Promise((r) => setTimeout(r, 1));
      });
      members.forEach((m) => m.close());
    }
  } finally {
    clients.forEach((s) => s.close());
    await server.stop();
    await redis.proc.stop();
  }
  return rows;
}

function report(rows, sizes) {
  const kb = (b) => `${(b / 1024).toFixed(0)} KiB`;
  const out = [
    "# AWS Lambda runtime: cost per inbound event",
    "",
    `Command: \`bash bench/lambda.sh\`${QUICK ? " (QUICK=1)" : ""}. ${new Date().toISOString()}. The function binaries`,
    "under cargo lambda's runtime API, API Gateway's stand-in (tests/lambda/serve.mjs), a local",
    "redis-server, all on loopback. Per inbound event; answered: the `$default` invocation's time",
    "to answer (its handler may go on after); done: until the sender has its ack and every",
    "member the broadcast, as the clients see it. Times are from a pass with no MONITOR attached.",
    "",
    "| scenario | events | Redis round trips | Management API calls | invocations | answered ms p50 / p90 | done ms p50 / p90 |",
    "|---|--:|--:|--:|---|--:|--:|",
  ];
  for (const r of rows) {
    const calls = r.posts_per_event + r.deletes_per_event;
    const invocations = Object.entries(r.invocations_per_event).map(([fn, n]) => `${fn} ${n}`).join(", ");
    out.push(
      `| ${r.scenario} | ${r.events} | ${r.round_trips_per_event} | ${+calls.toFixed(2)} | ${invocations} | ${r.handler_ms_p50} / ${r.handler_ms_p90} | ${r.done_ms_p50} / ${r.done_ms_p90} |`,
    );
  }
  out.push("", "Redis commands per event:", "");
  for (const r of rows) out.push(`- ${r.scenario}: ${JSON.stringify(r.commands_per_event)}`);
  out.push("", "Stripped release binaries:", "");
  for (const [fn, size] of Object.entries(sizes)) out.push(`- ${fn}: ${size.toLocaleString("en-US")} B (${kb(size)})`);
  return out.join("\n") + "\n";
}

const sizes = strippedSizes();
const rows = await costs();
const results = path.join(ROOT, "bench/results");
mkdirSync(results, { recursive: true });
writeFileSync(path.join(results, `${NAME}.jsonl`), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
const md = report(rows, sizes);
writeFileSync(path.join(results, `${NAME}.md`), md);
process.stdout.write(md);
