#!/usr/bin/env node
// Serves the built Worker (edge/build/) under workerd through the miniflare API, as the
// e2e server contract asks: `serve.mjs --port 0` prints `listening on http://127.0.0.1:PORT`
// first, and SIGTERM stops it. So `E2E_SERVER=tests/edge/serve.mjs` runs the native
// runtime's end-to-end suites, Node and Python, unchanged against the Cloudflare runtime.
//
//   --port N              0 (the default) picks a free port
//   --app NAME            e2e (default, or $EDGE_APP), chat, conformance-engine, conformance,
//                         conformance-client
//   --objects N           Durable Objects sessions are spread over (default 3, or $EDGE_OBJECTS):
//                         several, so that the suites cross objects as a deployment does
//   --ping-interval MS, --ping-timeout MS   override the app's heartbeat
// Objects answer /__sio/object/NAME/stats (SIO_DEBUG), which the tests read; $SIO_LOG sets
// the log level (warn by default). workerd's output goes to stderr.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { readFileSync } from "node:fs";
import { flag, pingSettings } from "../js/harness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// workerd names modules by their path from the working directory, and refuses "..".
process.chdir(root);
const require = createRequire(path.join(root, "edge/package.json"));
const { Miniflare, Log, LogLevel } = require("miniflare");

// The compatibility date and bindings come from wrangler.toml, so that tests run what
// `wrangler dev` and `wrangler deploy` would.
const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)[1];

const bindings = {
  SIO_APP: flag("--app", process.env.EDGE_APP ?? "e2e"),
  SIO_OBJECTS: flag("--objects", process.env.EDGE_OBJECTS ?? "3"),
  SIO_DEBUG: "1",
  SIO_LOG: process.env.SIO_LOG ?? "warn",
};
Object.assign(bindings, pingSettings());

const mf = new Miniflare({
  host: "127.0.0.1",
  port: Number(flag("--port", "0")),
  modules: true,
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  scriptPath: path.join(root, "edge/build/index.js"),
  // No request.cf from the network: a placeholder object.
  cf: false,
  compatibilityDate,
  bindings,
  durableObjects: { SIO: { className: "SioObject", useSQLite: true } },
  // The chat's static files, as `[assets]` in wrangler.toml serves them: a path with no
  // file reaches the Worker (wrangler tells its router so whenever there is a `main`).
  ...(bindings.SIO_APP === "chat"
    ? { assets: { directory: path.join(root, "app/static"), routerConfig: { has_user_worker: true } } }
    : {}),
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
