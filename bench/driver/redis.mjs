// What keeping state in Redis costs the native runtime, in one run:
//
// 1. Redis round trips per inbound event (handshake, WebSocket connect, echo with ack,
//    room broadcast, polling GET), counted from MONITOR with two processes on one Redis.
//    A MULTI…EXEC block or a script sent in one write is one round trip; the commands a
//    script runs inside Redis are not round trips. The deadline sweeper's own polling
//    (every 200 ms per process, whatever the traffic) is counted apart.
// 2. sio-bench echo and broadcast against one process in memory and two processes on one
//    Redis sharing a port (SO_REUSEPORT: the kernel spreads the clients), interleaved over
//    REPS repetitions; server CPU summed over the processes, Redis CPU apart.
//
//   node bench/driver/redis.mjs      (bench/redis.sh builds what it needs first)
//
// Environment: SIO_BENCH (the sio-bench binary), REPS (default 3), QUICK=1 (small runs),
// NAME (result stem, default "redis"). Writes bench/results/NAME.{jsonl,md}. Starts its own
// redis-server on a free loopback port and only signals processes it started.
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";
import { connected, listening, marked, monitor, redisCommand, sleep, startRedis } from "./redis-monitor.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SERVER = path.join(ROOT, "target/release/bench-server");
const SIO_BENCH = process.env.SIO_BENCH;
const QUICK = process.env.QUICK === "1";
const REPS = Number(process.env.REPS ?? (QUICK ? 1 : 3));
const NAME = process.env.NAME ?? (QUICK ? "redis-quick" : "redis");
const ECHO = QUICK ? [20, 200] : [100, 1000];
const BCAST = QUICK ? [200, 50] : [1000, 200];
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
const log = (...a) => console.error(`[bench redis ${new Date().toISOString().slice(11, 19)}]`, ...a);

const startServer = (args) => listening(SERVER, args);

async function costs() {
  const redis = await startRedis();
  const a = await startServer(["0", "--redis", redis.url]);
  const b = await startServer(["0", "--redis", redis.url]);
  const mon = monitor(redis.port);
  const out = [];
  const eio = (url) => `${url}/socket.io/?EIO=4&transport=polling`;
  const clients = [];
  const ws = async (url) => {
    const s = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
    clients.push(s);
    await connected(s);
    return s;
  };
  try {
    const sids = [];
    out.push(
      await marked(redis.port, mon, "polling handshake", async () => {
        for (let i = 0; i < 20; i++) sids.push(JSON.parse((await (await fetch(eio(a.url))).text()).slice(1)).sid);
        return 20;
      })
    );
    for (const sid of sids) await (await fetch(`${eio(a.url)}&sid=${sid}`, { method: "POST", body: "1" })).text();

    const conns = [];
    out.push(
      await marked(redis.port, mon, "WebSocket connect (open + CONNECT)", async () => {
        for (let i = 0; i < 20; i++) conns.push(await ws(a.url));
        return 20;
      })
    );
    conns.forEach((s) => s.close());

    const echo = await ws(a.url);
    out.push(
      await marked(redis.port, mon, "echo with ack (WebSocket)", async () => {
        for (let i = 0; i < 200; i++) await echo.emitWithAck("echo", "x");
        return 200;
      })
    );

    const members = [];
    for (let i = 0; i < 10; i++) members.push(await ws(i % 2 ? b.url : a.url));
    for (const m of members) await m.emitWithAck("join", "r");
    let received = 0;
    members.forEach((m) => m.on("room", () => received++));
    out.push(
      await marked(redis.port, mon, "room broadcast to 10 WebSockets on 2 processes", async () => {
        for (let i = 0; i < 50; i++) {
          await echo.emitWithAck("room", "r", "x");
          while (received < (i + 1) * 10) await sleep(1);
        }
        return 50;
      })
    );

    // A raw polling session in room "p", with packets queued for it before each GET.
    const sid = JSON.parse((await (await fetch(eio(a.url))).text()).slice(1)).sid;
    const post = (body) => fetch(`${eio(a.url)}&sid=${sid}`, { method: "POST", body }).then((r) => r.text());
    const get = () => fetch(`${eio(a.url)}&sid=${sid}`).then((r) => r.text());
    await post("40");
    await get();
    await post('421["join","p"]');
    await get();
    let gets = 0;
    const queued = [];
    for (let i = 0; i < 20; i++) {
      await echo.emitWithAck("room", "p", i);
      queued.push(
        await marked(redis.port, mon, "polling GET with a queued packet", async () => {
          const body = await get();
          if (!body.includes('["room"')) throw new Error(`unexpected poll: ${body}`);
          gets++;
          return 1;
        })
      );
    }
    const rt = queued.map((q) => q.round_trips_per_event);
    const cmds = {};
    for (const q of queued) for (const [k, v] of Object.entries(q.commands_per_event)) cmds[k] = (cmds[k] ?? 0) + v / gets;
    out.push({
      scenario: "polling GET with a queued packet",
      events: gets,
      round_trips_per_event: +(rt.reduce((x, y) => x + y, 0) / gets).toFixed(2),
      commands_per_event: Object.fromEntries(Object.entries(cmds).map(([k, v]) => [k, +v.toFixed(2)])),
      sweeper_per_s: queued[0].sweeper_per_s,
    });
    await post("1");
  } finally {
    clients.forEach((s) => s.close());
    mon.close();
    await a.stop();
    await b.stop();
    await redis.proc.stop();
  }
  return out;
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function sioBench(url, args) {
  return new Promise((resolve) => {
    const proc = spawn(SIO_BENCH, ["--url", url, "--timeout", "180", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.on("exit", () => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch {
        resolve({ error: "sio-bench failed" });
      }
    });
  });
}

async function throughput(redis, mode, rep) {
  let servers;
  if (mode === "memory, 1 process") {
    servers = [await startServer(["0"])];
  } else {
    await redisCommand(redis.port, "FLUSHALL");
    const first = await startServer(["0", "--redis", redis.url, "--reuse-port"]);
    const port = new URL(first.url).port;
    servers = [first, await startServer([port, "--redis", redis.url, "--reuse-port"])];
  }
  const url = servers[0].url;
  const lines = [];
  try {
    await sioBench(url, ["connect", "--clients", "20"]);
    await sleep(500);
    for (const [scenario, args] of [
      ["echo", ["echo", "--clients", String(ECHO[0]), "--messages", String(ECHO[1]), "--bytes", "64"]],
      ["broadcast", ["broadcast", "--clients", String(BCAST[0]), "--messages", String(BCAST[1])]],
    ]) {
      const before = servers.map((s) => cpuSeconds(s.pid));
      const redisBefore = cpuSeconds(redis.proc.pid);
      const result = await sioBench(url, args);
      const perProcess = servers.map((s, i) => +(cpuSeconds(s.pid) - before[i]).toFixed(2));
      const line = {
        mode,
        rep,
        scenario,
        server_cpu_s: +perProcess.reduce((x, y) => x + y, 0).toFixed(2),
        server_cpu_split_s: perProcess,
        redis_cpu_s: servers.length > 1 ? +(cpuSeconds(redis.proc.pid) - redisBefore).toFixed(2) : null,
        result,
      };
      log(`rep ${rep} ${mode} ${scenario}: ${JSON.stringify({ ...line, result: undefined })} ${result.acks_per_s ?? result.deliveries_per_s ?? result.error}`);
      lines.push(line);
      await sleep(500);
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  return lines;
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString("en-US") : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (xs) => (xs.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : "–");

const MODES = ["memory, 1 process", "Redis, 2 processes"];
const METRICS = [
  ["echo", "acks/s ↑", (l) => l.result.acks_per_s],
  ["echo", "ack latency p50 ms ↓", (l) => l.result.lat_p50_ms],
  ["echo", "ack latency p99 ms ↓", (l) => l.result.lat_p99_ms],
  ["echo", "server CPU µs / ack ↓", (l) => (l.server_cpu_s * 1e6) / l.result.acks],
  ["echo", "Redis CPU µs / ack ↓", (l) => (l.redis_cpu_s === null ? NaN : (l.redis_cpu_s * 1e6) / l.result.acks)],
  ["broadcast", "deliveries/s ↑", (l) => l.result.deliveries_per_s],
  ["broadcast", "delivery latency p99 ms ↓", (l) => l.result.lat_p99_ms],
  ["broadcast", "server CPU µs / delivery ↓", (l) => (l.server_cpu_s * 1e6) / l.result.deliveries],
  ["broadcast", "Redis CPU µs / delivery ↓", (l) => (l.redis_cpu_s === null ? NaN : (l.redis_cpu_s * 1e6) / l.result.deliveries)],
];

function report(costRows, lines) {
  const git = execFileSync("git", ["-C", ROOT, "describe", "--always", "--dirty"]).toString().trim();
  const redisVersion = execFileSync("redis-server", ["--version"]).toString().split(" ")[2];
  const md = [
    "# The Redis store: cost per event and throughput",
    "",
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, git \`${git}\`, redis-server ${redisVersion}, ${REPS} repetition(s), \`node bench/driver/redis.mjs\` (via \`bench/redis.sh\`).`,
    "",
    "## Redis round trips per inbound event",
    "",
    "Two processes on one Redis, counted from MONITOR. A MULTI…EXEC block or a script is one round trip; commands a script runs inside Redis are not counted. The sweeper's own polling of the deadline sets runs apart from traffic, every 200 ms per process.",
    "",
    "| event | round trips | commands (per event) |",
    "|---|--:|---|",
    ...costRows.map(
      (r) =>
        `| ${r.scenario} | ${r.round_trips_per_event} | ${Object.entries(r.commands_per_event)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")} |`
    ),
    "",
    `Sweeper, idle: ${costRows[0]?.sweeper_per_s ?? "–"} round trips/s for the two processes.`,
    "",
    "## Throughput: two processes on Redis against one in memory",
    "",
    `sio-bench over WebSocket: echo ${ECHO[0]} clients × ${ECHO[1]} messages × 64 B; broadcast to ${BCAST[0]} clients × ${BCAST[1]} messages. The two processes share one port with SO_REUSEPORT (\`--reuse-port\`), so the kernel spreads the clients over them and a broadcast crosses processes through Redis pub/sub. Server CPU is utime+stime summed over the server processes; Redis CPU is the redis-server's. Cells: median (min–max).`,
    "",
    `| scenario | metric | ${MODES.join(" | ")} | ratio |`,
    "|---|---|--:|--:|--:|",
  ];
  for (const [scenario, label, f] of METRICS) {
    const values = MODES.map((mode) =>
      lines.filter((l) => l.mode === mode && l.scenario === scenario && !l.result.error).map(f).filter((v) => Number.isFinite(v))
    );
    const ratio = values.every((v) => v.length) && median(values[0]) ? (median(values[1]) / median(values[0])).toFixed(2) : "–";
    md.push(`| ${scenario} | ${label} | ${values.map(cell).join(" | ")} | ${ratio} |`);
  }
  md.push("", "Ratio: Redis, 2 processes ÷ memory, 1 process. ↓ lower is better, ↑ higher is better.", "");
  return md.join("\n");
}

if (!SIO_BENCH) throw new Error("SIO_BENCH must name the sio-bench binary (bench/redis.sh sets it)");
log("round trips per event");
const costRows = await costs();
for (const r of costRows) log(JSON.stringify(r));
const redis = await startRedis();
const lines = [];
for (let rep = 1; rep <= REPS; rep++) for (const mode of MODES) lines.push(...(await throughput(redis, mode, rep)));
await redis.proc.stop();
const results = path.join(ROOT, "bench/results");
mkdirSync(results, { recursive: true });
writeFileSync(path.join(results, `${NAME}.jsonl`), [...costRows.map((r) => JSON.stringify({ cost: r })), ...lines.map((l) => JSON.stringify(l))].join("\n") + "\n");
const md = report(costRows, lines);
writeFileSync(path.join(results, `${NAME}.md`), md);
console.log(md);
process.exit(0);
