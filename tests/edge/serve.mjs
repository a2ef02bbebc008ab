#!/usr/bin/env node
// Serves a built Worker (tests/apps/worker/build/, or --worker DIR) under workerd through the miniflare API, as the
// e2e server contract asks: `serve.mjs --port 0` prints `listening on http://127.0.0.1:PORT`
// first, and SIGTERM stops it. So `E2E_SERVER=tests/edge/serve.mjs` runs the native
// runtime's end-to-end suites, Node and Python, unchanged against the Cloudflare runtime.
//
//   --port N              0 (the default) picks a free port
//   --worker DIR          the Worker crate whose build/ to serve (default tests/apps/worker,
//                         built by `bash edge/build.sh tests/apps/worker`), with the
//                         compatibility date of DIR/../wrangler.toml when there is one
//   --assets DIR          static files served before the Worker, as `[assets]` does
//   --app NAME            e2e (default, or $EDGE_APP), chat, conformance-engine, conformance,
//                         conformance-client
//   --objects N           Durable Objects sessions are spread over (default 3, or $EDGE_OBJECTS):
//                         several, so that the suites cross objects as a deployment does
//   --ping-interval MS, --ping-timeout MS   override the app's heartbeat
//   --max-sessions N, --max-buffered-packets N, --max-namespaces N, --max-rooms N,
//   --max-pending-acks N   the app's limits, as e2e-server takes them
//   --tick-ms MS          the e2e app's scheduled handler (tests/CONTRACT.md)
// Objects answer /__sio/object/NAME/stats (SIO_DEBUG), which the tests read; $SIO_LOG sets
// the log level (warn by default). workerd's output goes to stderr.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { flag, launcherSettings } from "../js/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// workerd names modules by their path from the working directory, and refuses "..".
process.chdir(root);
const require = createRequire(path.join(root, "edge/package.json"));
const { Miniflare, Log, LogLevel } = require("miniflare");

const worker = path.resolve(flag("--worker", path.join(root, "tests/apps/worker")));
// The compatibility date comes from wrangler.toml (the Worker's own, else the root's), so
// that tests run what `wrangler dev` and `wrangler deploy` would.
const own = path.join(worker, "..", "wrangler.toml");
const toml = readFileSync(existsSync(own) ? own : path.join(root, "wrangler.toml"), "utf8");
const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)[1];

const bindings = {
  SIO_APP: flag("--app", process.env.EDGE_APP ?? "e2e"),
  SIO_OBJECTS: flag("--objects", process.env.EDGE_OBJECTS ?? "3"),
  SIO_DEBUG: "1",
  SIO_LOG: process.env.SIO_LOG ?? "warn",
};
Object.assign(bindings, launcherSettings());
const assets = flag("--assets", bindings.SIO_APP === "chat" ? path.join(root, "examples/chat/static") : undefined);

const mf = new Miniflare({
  host: "127.0.0.1",
  port: Number(flag("--port", "0")),
  modules: true,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  scriptPath: path.join(worker, "build/index.js"),
  // No request.cf from the network: a placeholder object.
  cf: false,
  compatibilityDate,
  bindings,
  durableObjects: { SIO: { className: "SioObject", useSQLite: true } },
  // Static files, as `[assets]` in wrangler.toml serves them (the chat's by default for
  // the chat): a path with no file reaches the Worker (wrangler tells its router so
  // whenever there is a `main`).
  ...(assets ? { assets: { directory: assets, routerConfig: { has_user_worker: true } } } : {}),
  log: new Log(LogLevel.WARN),
  // Everything workerd prints goes to stderr: stdout is the address line alone.
  handleRuntimeStdio(stdout, stderr) {
    stdout.pipe(process.stderr);
    stderr.pipe(process.stderr);
  },
});

const url = await mf.ready;
console.log(`listening on ${url.origin}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
