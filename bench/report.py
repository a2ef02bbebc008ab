#!/usr/bin/env python3
"""Turns bench/run.sh's JSON lines into a Markdown table (standard library only).

    report.py [--meta meta.json] results.jsonl > results.md
    report.py --brief < lines        # one short line per scenario, for progress output

Cells are "median (min–max)" over repetitions; the ratio columns divide our median by the
peer's (below 1 is better for cost and latency rows, above 1 for throughput rows).
"""

import json
import statistics
import sys

SERVERS = ["ours", "socketioxide", "node"]

# (scenario, label, function of (line, result) -> value or None, better: "low" or "high")
def per(key, count_key, scale=1e6):
    def f(line, r):
        n = r.get(count_key) or 0
        v = r.get(key)
        return None if v is None or n == 0 else v * scale / n
    return f


def rss_per_conn(line, r):
    before, after, n = line.get("rss_before_kb"), r.get("server_vmrss_kb"), r.get("connected") or 0
    return None if before is None or after is None or n == 0 else (after - before) / n


def field(key):
    return lambda line, r: r.get(key)


METRICS = [
    ("connect", "server CPU µs / connect", per("server_cpu_s", "connected"), "low"),
    ("connect", "KB RSS / connection", rss_per_conn, "low"),
    ("connect", "connects/s", field("connects_per_s"), "high"),
    ("echo", "acks/s", field("acks_per_s"), "high"),
    ("echo", "ack latency p50 ms", field("lat_p50_ms"), "low"),
    ("echo", "ack latency p99 ms", field("lat_p99_ms"), "low"),
    ("echo", "server CPU µs / ack", per("server_cpu_s", "acks"), "low"),
    ("broadcast", "deliveries/s", field("deliveries_per_s"), "high"),
    ("broadcast", "delivery latency p50 ms", field("lat_p50_ms"), "low"),
    ("broadcast", "delivery latency p99 ms", field("lat_p99_ms"), "low"),
    ("broadcast", "server CPU µs / delivery", per("server_cpu_s", "deliveries"), "low"),
    ("broadcast-20/s", "delivery latency p50 ms", field("lat_p50_ms"), "low"),
    ("broadcast-20/s", "delivery latency p99 ms", field("lat_p99_ms"), "low"),
    ("broadcast-20/s", "server CPU µs / delivery", per("server_cpu_s", "deliveries"), "low"),
    ("polling-echo", "acks/s", field("acks_per_s"), "high"),
    ("polling-echo", "ack latency p50 ms", field("lat_p50_ms"), "low"),
    ("polling-echo", "ack latency p99 ms", field("lat_p99_ms"), "low"),
    ("polling-echo", "server CPU µs / ack", per("server_cpu_s", "acks"), "low"),
    ("connect-5k", "server CPU µs / connect", per("server_cpu_s", "connected"), "low"),
    ("connect-5k", "KB RSS / connection", rss_per_conn, "low"),
    ("connect-5k", "connects/s", field("connects_per_s"), "high"),
]


def problems(scenario, r):
    """Why a run's figures may not be comparable."""
    out = []
    if "error" in r:
        out.append(r["error"])
    if r.get("connect_failures"):
        out.append(f"{r['connect_failures']} connect failures")
    if r.get("run_errors"):
        out.append(f"{r['run_errors']} run errors ({r.get('first_error')})")
    if scenario in ("echo", "polling-echo") and r.get("bad_acks"):
        out.append(f"{r['bad_acks']} bad acks")
    if scenario in ("echo", "polling-echo") and r.get("acks") is not None and r["acks"] < r.get("messages", 0) * r.get("clients", 0):
        out.append(f"{r['acks']} acks of {r['messages'] * r['clients']}")
    if scenario.startswith("broadcast") and r.get("deliveries", 0) < r.get("expected_deliveries", 0):
        out.append(f"{r['deliveries']} deliveries of {r['expected_deliveries']}")
    if r.get("gen_cpu_util", 0) > 0.9:
        out.append(f"generator-bound (gen_cpu_util {r['gen_cpu_util']:.2f})")
    return out


def fmt(v):
    if v is None:
        return "–"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(values):
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f"{fmt(med)} ({fmt(min(values))}–{fmt(max(values))})"


def ratio(a, b):
    if not a or not b:
        return "–"
    ma, mb = statistics.median(a), statistics.median(b)
    return "–" if mb == 0 else f"{ma / mb:.2f}"


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def brief(lines):
    for line in lines:
        r = line["result"]
        vals = [f"{label}={fmt(fn(line, r))}" for sc, label, fn, _ in METRICS if sc == line["scenario"]]
        extra = problems(line["scenario"], r)
        print(f"  {line['server']:<12} {line['scenario']:<14} " + ", ".join(vals) + (f"  !! {'; '.join(extra)}" if extra else ""))


def main(argv):
    if "--brief" in argv:
        brief([json.loads(l) for l in sys.stdin if l.strip()])
        return
    meta = {}
    if "--meta" in argv:
        i = argv.index("--meta")
        with open(argv[i + 1]) as f:
            meta = json.load(f)
        del argv[i : i + 2]
    lines = load(argv[1])
    servers = [s for s in SERVERS if any(l["server"] == s for l in lines)]
    values = {}  # (server, scenario, metric label) -> [v]
    notes = []
    for line in lines:
        r = line["result"]
        for p in problems(line["scenario"], r):
            notes.append(f"{line['server']} rep {line['rep']} {line['scenario']}: {p}")
        for sc, label, fn, _ in METRICS:
            if sc == line["scenario"]:
                v = fn(line, r)
                if v is not None:
                    values.setdefault((line["server"], sc, label), []).append(v)

    out = ["# Socket.IO server benchmark: ours vs socketioxide vs Node socket.io", ""]
    if meta:
        p = meta.get("params", {})
        out.append(
            f"{meta.get('date')}, git `{meta.get('git')}`, {meta.get('cpus')} CPUs, Linux {meta.get('kernel')}, "
            f"{meta.get('rustc')}, node {meta.get('node')}, socketioxide `{(meta.get('socketioxide') or '').split('#')[-1]}`, "
            f"socket.io {meta.get('socket.io')}. {meta.get('reps')} repetitions, servers interleaved"
            + (" (QUICK mode)" if meta.get("quick") else "")
            + (f"; {meta['pinned']} (taskset)" if meta.get("pinned") else "; nothing pinned")
            + "."
        )
        out.append("")
        c, e, b = p.get("connect"), p.get("echo") or [None] * 3, p.get("broadcast") or [None] * 2
        rate, poll = p.get("rate") or [None] * 2, p.get("polling") or [None] * 2
        out.append(
            f"Scenarios (sio-bench, WebSocket transport, 1 generator thread): connect {c} clients "
            f"(connect-5k: {p.get('connect_big')}); "
            f"echo {e[0]} clients × {e[1]} messages × {e[2]} B; broadcast to {b[0]} clients × {b[1]} messages "
            f"as fast as acked, and {rate[1]} messages at a fixed {rate[0]}/s (broadcast-20/s). "
            f"polling-echo: the same echo over HTTP long-polling, {poll[0]} clients × {poll[1]} messages, driven by "
            "the official Node client (bench/driver/polling-echo.mjs), which limits acks/s and latency alike for every server. "
            "Server CPU is utime+stime of the server process over the measured phase; "
            "KB RSS / connection is (VmRSS with all connected − VmRSS before) / connected."
        )
        out.append("")
    out.append("Cells: median (min–max) over repetitions. Ratios: median ours / median peer.")
    out.append("")
    header = ["scenario", "metric"] + servers
    ratio_peers = [s for s in servers if s != "ours"] if "ours" in servers else []
    header += [f"ours/{s}" for s in ratio_peers]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join(["---", "---"] + ["--:"] * (len(header) - 2)) + "|")
    for sc, label, _, better in METRICS:
        row = [sc, label + (" ↓" if better == "low" else " ↑")]
        row += [cell(values.get((s, sc, label), [])) for s in servers]
        row += [ratio(values.get(("ours", sc, label)), values.get((s, sc, label))) for s in ratio_peers]
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("↓ lower is better, ↑ higher is better.")
    if notes:
        out.append("")
        out.append("Warnings:")
        out.append("")
        out += [f"- {n}" for n in notes]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv)
