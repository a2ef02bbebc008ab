// The engine's hooks on HTTP (tests/CONTRACT.md): allowRequest's own reason and status,
// the session cookie and the application's headers on handshakes and every answer,
// generateId, the compression of long-polling answers, and connection_error, told of
// every refused request, wherever the runtime refused it.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startServer, connect, once, until } from "./harness.mjs";

// API Gateway answers WebSocket handshakes itself: the function's headers do not reach
// the client (docs/aws.md).
const LAMBDA = process.env.E2E_RUNTIME === "lambda";

describe("engine hooks", () => {
  let server;
  let base;
  let watcher;

  before(async () => {
    server = await startServer();
    base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    watcher = (await connect(server.url, { transports: ["websocket"] })).socket;
    await watcher.emitWithAck("join", "refusal-watchers");
  });

  after(async () => {
    watcher.close();
    await server.stop();
  });

  it("refuses a handshake with allowRequest's reason and status", async () => {
    const limited = await fetch(`${base}&deny-with=${encodeURIComponent("slow down")}`);
    assert.deepEqual([limited.status, await limited.json()], [429, { code: 4, message: "slow down" }]);
    const denied = await fetch(`${base}&deny=1`);
    assert.deepEqual([denied.status, await denied.json()], [403, { code: 4, message: "Forbidden" }]);
  });

  it("sets the session cookie and the handshake's headers, and headers on every answer", async () => {
    const res = await fetch(`${base}&tag=t1`);
    const { sid } = JSON.parse((await res.text()).slice(1));
    assert.equal(res.headers.get("set-cookie"), `io=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    assert.equal(res.headers.get("x-initial"), "t1");
    assert.equal(res.headers.get("x-served"), "GET");
    const posted = await fetch(`${base}&sid=${sid}`, { method: "POST", body: "40" });
    assert.equal(await posted.text(), "ok");
    assert.equal(posted.headers.get("x-served"), "POST");
    assert.equal(posted.headers.get("set-cookie"), null);
    assert.equal(posted.headers.get("x-initial"), null);
  });

  it("sets them on a WebSocket handshake", { skip: LAMBDA && "API Gateway answers WebSocket handshakes" }, async () => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket&tag=t2`);
    const [upgraded, opened] = [once(ws, "upgrade"), once(ws, "message")];
    const res = await upgraded;
    const open = await opened;
    const { sid } = JSON.parse(open.toString().slice(1));
    ws.close();
    assert.deepEqual(res.headers["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
    assert.equal(res.headers["x-initial"], "t2");
    assert.equal(res.headers["x-served"], "GET");
  });

  for (const transports of [["polling"], ["websocket"]]) {
    it(`gives a session the id generateId chooses, unless invalid or taken (${transports})`, async () => {
      const hint = `${transports[0]}${Date.now()}`;
      // On Cloudflare the owning object's name comes first: every request is routed by it.
      const chosen = (id) => (process.env.E2E_RUNTIME === "edge" ? id.replace(/^o\d+-/, "") : id);
      const open = [];
      const session = async (idhint) => {
        const { socket } = await connect(server.url, { transports, query: { idhint } });
        open.push(socket);
        return socket;
      };
      try {
        const first = await session(hint);
        assert.equal(chosen(first.io.engine.id), `chosen_${hint}`);
        // Taken: the second client gets a random id, and the first keeps its session.
        const second = await session(hint);
        assert.notEqual(second.io.engine.id, first.io.engine.id);
        assert.equal(await first.emitWithAck("echo", "still mine"), "still mine");
        assert.equal(await second.emitWithAck("echo", "mine"), "mine");
        // Invalid ("%" is no sid character): a random id.
        const invalid = await session("a b");
        assert.ok(!chosen(invalid.io.engine.id).startsWith("chosen_"), invalid.io.engine.id);
      } finally {
        for (const socket of open) socket.close();
      }
    });
  }

  it(
    "compresses a long-polling answer over the threshold as the client accepts (httpCompression)",
    { skip: process.env.E2E_RUNTIME === "edge" && "Cloudflare compresses at its edge; workerd does not" },
    async () => {
      const { sid } = JSON.parse((await (await fetch(base)).text()).slice(1));
      const url = `${base}&sid=${sid}`;
      const post = (body) => fetch(url, { method: "POST", body, headers: { "content-type": "text/plain;charset=UTF-8" } });
      /** GETs until an answer holds `marker`; gives that answer's encoding and text. */
      const pollFor = async (marker, encoding) => {
        for (let i = 0; i < 10; i++) {
          const res = await fetch(url, { headers: { "accept-encoding": encoding } });
          const text = await res.text();
          if (text.includes(marker)) return [res.headers.get("content-encoding"), text];
        }
        throw new Error(`no answer with ${marker}`);
      };
      await post("40");
      await pollFor("welcome", "gzip, deflate");
      const big = "x".repeat(3000);
      for (const [id, encoding, expected] of [[1, "gzip, deflate", "gzip"], [2, "deflate", "deflate"], [3, "identity", null]]) {
        assert.equal((await post(`42${id}["echo","${big}"]`)).status, 200);
        const [used, text] = await pollFor(`43${id}[`, encoding);
        assert.equal(used, expected, `Accept-Encoding: ${encoding}`);
        assert.ok(text.includes(`43${id}["${big}"]`), "the answer whole");
      }
      // Under the 1024-byte threshold: as it is.
      await post('424["echo","small"]');
      const [used, text] = await pollFor("434[", "gzip");
      assert.equal(used, null);
      assert.ok(text.split("\x1e").includes('434["small"]'), text);
    },
  );

  it("tells connection_error of every refused request", async () => {
    const marker = `m${Date.now()}`;
    const reports = [];
    watcher.on("refused", (report) => report.url.includes(marker) && reports.push(report));
    const refused = [
      [`${base}&sid=nope&marker=${marker}`, 400],
      [`${server.url}/socket.io/?EIO=3&transport=polling&marker=${marker}`, 400],
      [`${base}&deny-with=no&marker=${marker}`, 429],
      [`${server.url}/socket.io/?EIO=4&transport=carrier-pigeon&marker=${marker}`, 400],
    ];
    for (const [url, status] of refused) {
      assert.equal((await fetch(url)).status, status, url);
    }
    await until(() => reports.length === refused.length);
    const seen = reports.map(({ code, message, status, method }) => [code, message, status, method]);
    seen.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(seen, [
      [0, "Transport unknown", 400, "GET"],
      [1, "Session ID unknown", 400, "GET"],
      [4, "no", 429, "GET"],
      [5, "Unsupported protocol version", 400, "GET"],
    ]);
  });
});
