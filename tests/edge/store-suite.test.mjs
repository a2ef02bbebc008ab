// The store suite of sio-engine (engine/src/suite.rs, which the memory and Redis stores
// run under `cargo test`) against the Durable Object store, under workerd: each check in
// an object of its own, whose SQLite storage is fresh. A check that fails panics in the
// object, which leaves the request unanswered (workerd's log on stderr shows the trap).
//
// Needs the built Worker (edge/build.sh tests/apps/worker); run from tests/: node --test edge/
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { startServer } from "../js/harness.mjs";

const serve = path.join(path.dirname(fileURLToPath(import.meta.url)), "serve.mjs");

describe("edge: the store suite on a Durable Object's storage", () => {
  let server;
  before(async () => {
    process.env.E2E_SERVER = serve;
    server = await startServer("edge", ["--objects", "3"]);
  });
  after(() => server.stop());

  it("passes every check", async () => {
    const checks = await (await fetch(`${server.url}/__sio/object/suite-list/suite`)).json();
    assert.ok(checks.length >= 7, `the checks: ${checks}`);
    for (const check of checks) {
      // A panic leaves the request unanswered: workerd resets the isolate.
      const answer = await fetch(`${server.url}/__sio/object/suite-${randomUUID()}/suite/${check}`, {
        signal: AbortSignal.timeout(10_000),
      }).then(
        async (res) => `${res.status} ${await res.text()}`,
        (e) => `no answer (${e.name}): the check panicked, see the object's log`,
      );
      assert.equal(`${check}: ${answer}`, `${check}: 200 ok`);
    }
  });
});
