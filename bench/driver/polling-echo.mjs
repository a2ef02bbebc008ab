// Echo with ack over HTTP long-polling, driven by the official Node client (sio-bench
// speaks WebSocket only). Same contract and summary fields as sio-bench's `echo`:
//
//   node bench/driver/polling-echo.mjs --url URL [--clients 100] [--messages 1000]
//        [--bytes 64] [--server-pid PID] [--timeout 180]
//
// Each client sends `echo` with a payload of --bytes and waits for the ack before the next.
// Prints one JSON line: acks, acks_per_s, lat_p50/p99/max_ms, bad_acks, server_cpu_s
// (utime+stime of --server-pid over the echo phase), server_vmrss_kb, gen_cpu_util.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { io } from "socket.io-client";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    clients: { type: "string", default: "100" },
    messages: { type: "string", default: "1000" },
    bytes: { type: "string", default: "64" },
    "server-pid": { type: "string" },
    timeout: { type: "string", default: "180" },
  },
});
const clients = Number(opt.clients);
const messages = Number(opt.messages);
const payload = "x".repeat(Number(opt.bytes));
const pid = opt["server-pid"];
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());

function serverCpu() {
  if (!pid) return null;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function serverRss() {
  if (!pid) return null;
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : null;
}

const deadline = setTimeout(() => {
  console.log(JSON.stringify({ mode: "polling-echo", error: `timed out after ${opt.timeout} s` }));
  process.exit(1);
}, Number(opt.timeout) * 1000);

const sockets = [];
let connectFailures = 0;
for (let i = 0; i < clients; i += 50) {
  const batch = Array.from({ length: Math.min(50, clients - i) }, () => {
    const s = io(opt.url, { transports: ["polling"], forceNew: true, reconnection: false });
    sockets.push(s);
    return new Promise((resolve) => {
      s.once("connect", resolve);
      s.once("connect_error", () => {
        connectFailures++;
        resolve();
      });
    });
  });
  await Promise.all(batch);
}

const latencies = [];
let badAcks = 0;
let runErrors = 0;
const cpu0 = serverCpu();
const gen0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(
  sockets
    .filter((s) => s.connected)
    .map(async (s) => {
      for (let m = 0; m < messages; m++) {
        const sent = performance.now();
        try {
          const reply = await s.timeout(30_000).emitWithAck("echo", payload);
          latencies.push(performance.now() - sent);
          if (reply !== payload) badAcks++;
        } catch {
          runErrors++;
          return;
        }
      }
    })
);
const wall = (performance.now() - t0) / 1000;
const cpu1 = serverCpu();
const gen = process.cpuUsage(gen0);
const rss = serverRss();
sockets.forEach((s) => s.close());
clearTimeout(deadline);

latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : null);
console.log(
  JSON.stringify({
    mode: "polling-echo",
    url: opt.url,
    clients,
    messages,
    connected: clients - connectFailures,
    connect_failures: connectFailures,
    acks: latencies.length,
    acks_per_s: latencies.length / wall,
    bad_acks: badAcks,
    run_errors: runErrors,
    lat_p50_ms: pct(50),
    lat_p99_ms: pct(99),
    lat_max_ms: latencies.at(-1) ?? null,
    phase_wall_s: wall,
    server_cpu_s: cpu0 === null ? null : cpu1 - cpu0,
    server_vmrss_kb: rss,
    gen_cpu_util: (gen.user + gen.system) / 1e6 / wall,
  })
);
process.exit(0);
