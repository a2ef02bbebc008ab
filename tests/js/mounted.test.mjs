// The endpoint as a tower Service inside an axum router (target/release/e2e-axum), beside
// routes of the router's own (one emits from outside any handler): all answer, WebSockets come through axum's connections,
// and SIGTERM closes the sessions before axum stops. tests/run.sh also runs the e2e suites
// against it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, once, transportIs } from "./harness.mjs";

describe("mounted in an axum router", { skip: process.env.E2E_SERVER ? "the native runtime's axum binary" : false }, () => {
  it("serves the router's /health and Socket.IO on both transports, and shuts down gracefully", async () => {
    const server = await startServer("e2e-axum");
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "ok");
    const { socket } = await connect(server.url, { transports: ["polling", "websocket"] });
    await transportIs(socket, "websocket");
    assert.equal(await socket.timeout(3000).emitWithAck("echo", "through axum"), "through axum");
    // io.emit from an HTTP route of the router, outside any handler.
    const announced = once(socket, "announcement", 3000);
    const answer = await fetch(`${server.url}/announce/${encodeURIComponent("from a route")}`);
    assert.equal(await answer.text(), "1");
    assert.equal(await announced, "from a route");
    const polling = (await connect(server.url, { transports: ["polling"] })).socket;
    // Its next GET parked: one that reaches a server no longer accepting fails
    // ("transport error"), as against Node's once its `io.close()` closed the listener.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = [once(socket, "disconnect", 3000), once(polling, "disconnect", 3000)];
    const exited = new Promise((resolve) => server.proc.once("exit", (code, signal) => resolve({ code, signal })));
    server.proc.kill("SIGTERM");
    assert.deepEqual(await Promise.all(closed), ["transport close", "transport close"]);
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
});
