// Graceful shutdown of the native runtime on its own (state in memory): SIGTERM closes
// every session, over either transport, at once rather than when the clients' pings lapse,
// and the process exits. On Redis, cluster.test.mjs checks that the disconnect handlers
// run and the other processes carry on.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { startServer, connect, once } from "./harness.mjs";

describe("SIGTERM", { skip: process.env.E2E_SERVER ? "the native runtime's shutdown" : false }, () => {
  it("closes every session, polling and WebSocket, and exits", async () => {
    const server = await startServer();
    const polling = (await connect(server.url, { transports: ["polling"] })).socket;
    const websocket = (await connect(server.url, { transports: ["websocket"] })).socket;
    // Its next GET parked: one that reaches a server no longer accepting fails
    // ("transport error"), as against Node's once its `io.close()` closed the listener.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = [once(polling, "disconnect", 3000), once(websocket, "disconnect", 3000)];
    const exited = new Promise((resolve) => server.proc.once("exit", (code, signal) => resolve({ code, signal })));
    server.proc.kill("SIGTERM");
    assert.deepEqual(await Promise.all(closed), ["transport close", "transport close"]);
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
});
