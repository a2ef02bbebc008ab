// Hostile and broken input: every case gets the protocol's answer (an error code, or the
// close of that one session) with a log line, the server stays up, and a bystander client
// connected throughout never notices.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { startServer, connect, never } from "./harness.mjs";

const RS = "\x1e";

describe("bad input", () => {
  let server;
  let base;
  let bystander;
  let bystanderGone;

  before(async () => {
    server = await startServer();
    base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    bystander = (await connect(server.url, { transports: ["websocket"] })).socket;
    bystanderGone = never(bystander, "disconnect", 2_147_483);
  });

  after(async () => {
    bystander.close();
    await server.stop();
  });

  async function handshake() {
    const res = await fetch(base);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body[0], "0");
    return JSON.parse(body.slice(1));
  }

  /** A polling session connected to namespace `/`. */
  async function session() {
    const { sid } = await handshake();
    await post(sid, "40");
    const connected = await poll(sid);
    assert.match(connected.body, /^40\{"sid":/);
    return sid;
  }

  const poll = async (sid, ms = 5000) => {
    const url = `${base}&sid=${sid}`;
    // A server that refused a body without reading it (413) closes that connection; fetch
    // may have taken it for this GET just before the close: a GET may then go again.
    const res = await fetch(url, { signal: AbortSignal.timeout(ms) }).catch((e) => {
      if (e.name !== "TypeError") throw e;
      return fetch(url, { signal: AbortSignal.timeout(ms) });
    });
    return { status: res.status, body: await res.text() };
  };

  // The official client posts as text/plain;charset=UTF-8, whatever the bytes are.
  const post = async (sid, body, type = "text/plain;charset=UTF-8") => {
    const res = await fetch(`${base}&sid=${sid}`, { method: "POST", body, headers: { "content-type": type } });
    return { status: res.status, body: await res.text() };
  };

  /** The session is gone: its polls end with a close packet, then "Session ID unknown". */
  async function assertClosed(sid) {
    for (let i = 0; i < 3; i++) {
      const { status, body } = await poll(sid);
      if (status === 400) {
        assert.deepEqual(JSON.parse(body), { code: 1, message: "Session ID unknown" });
        return;
      }
      assert.equal(status, 200);
    }
    assert.fail(`session ${sid} still open`);
  }

  function assertLogged(pattern) {
    assert.match(server.log(), pattern, "the server logs why");
  }

  it("answers the handshake with exactly the reference keys and a 128-bit sid", async () => {
    const open = await handshake();
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.deepEqual([open.pingInterval, open.pingTimeout, open.maxPayload], [500, 1000, 100000]);
    assert.match(open.sid, /^[A-Za-z0-9_-]{22,}$/);
    assert.notEqual((await handshake()).sid, open.sid);
  });

  it("refuses bad requests with the Engine.IO error codes", async () => {
    const cases = [
      ["/socket.io/?EIO=4", "GET", 0, "Transport unknown"],
      ["/socket.io/?EIO=4&transport=carrier-pigeon", "GET", 0, "Transport unknown"],
      ["/socket.io/?transport=polling", "GET", 5, "Unsupported protocol version"],
      ["/socket.io/?EIO=3&transport=polling", "GET", 5, "Unsupported protocol version"],
      ["/socket.io/?EIO=4&transport=polling&sid=nope", "GET", 1, "Session ID unknown"],
      ["/socket.io/?EIO=4&transport=polling&sid=nope", "POST", 1, "Session ID unknown"],
      ["/socket.io/?EIO=4&transport=websocket&sid=nope", "GET", 3, "Bad request"],
      ["/socket.io/?EIO=4&transport=polling", "POST", 2, "Bad handshake method"],
      ["/socket.io/?EIO=4&transport=polling", "PUT", 2, "Bad handshake method"],
    ];
    for (const [path, method, code, message] of cases) {
      const res = await fetch(server.url + path, { method, body: method === "GET" ? undefined : "x" });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.deepEqual(await res.json(), { code, message }, `${method} ${path}`);
    }
    const denied = await fetch(`${base}&deny=1`);
    assert.deepEqual([denied.status, await denied.json()], [403, { code: 4, message: "Forbidden" }]);
    const { sid } = await handshake();
    const res = await fetch(`${base}&sid=${sid}`, { method: "PUT", body: "x" });
    assert.deepEqual([res.status, await res.json()], [400, { code: 3, message: "Bad request" }]);
  });

  it("answers CORS for the allowed origin only", async () => {
    const pre = await fetch(base, { method: "OPTIONS", headers: { origin: "http://allowed.test" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "http://allowed.test");
    assert.match(pre.headers.get("access-control-allow-methods"), /POST/);
    assert.equal(pre.headers.get("access-control-allow-headers"), "content-type,authorization");
    const ok = await fetch(base, { headers: { origin: "http://allowed.test" } });
    assert.equal(ok.headers.get("access-control-allow-origin"), "http://allowed.test");
    assert.equal(ok.headers.get("access-control-expose-headers"), "x-served");
    const foreign = await fetch(base, { headers: { origin: "http://evil.test" } });
    assert.equal(foreign.status, 200);
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  });

  it("closes a session that polls twice at once", async () => {
    const sid = await session();
    // The first GET must still be parked when the second arrives. Something queued may
    // answer it first (the app's welcome after the CONNECT reply, a ping every 500 ms):
    // then answer a ping and park again.
    let first;
    for (let i = 0; ; i++) {
      let answered = false;
      first = poll(sid).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      if (!answered) break;
      assert.ok(i < 5, "a GET stays parked for 100 ms once nothing is queued");
      const { status, body } = await first;
      assert.equal(status, 200);
      if (body.split(RS).includes("2")) await post(sid, "3");
    }
    const second = await poll(sid);
    assert.equal(second.status, 400);
    assert.deepEqual(JSON.parse(second.body), { code: 3, message: "Bad request" });
    const parked = await first;
    assert.equal(parked.status, 200);
    assert.ok(parked.body.split(RS).includes("1"), `close packet in ${JSON.stringify(parked.body)}`);
    await assertClosed(sid);
    assertLogged(/overlapping polls/);
  });

  it("refuses an oversize POST with 413 and closes that session", async () => {
    const sid = await session();
    const res = await post(sid, "4" + "x".repeat(100_001));
    assert.equal(res.status, 413);
    await assertClosed(sid);
    assertLogged(/maxHttpBufferSize/);
  });

  for (const [name, body, log] of [
    ["invalid UTF-8", Buffer.from([0x34, 0x32, 0xff, 0xfe]), /undecodable polling payload/],
    ["invalid UTF-8 inside an event", Buffer.concat([Buffer.from('42["echo","'), Buffer.from([0xc3, 0x28]), Buffer.from('"]')]), /undecodable polling payload/],
    ["every byte value", Buffer.from(Array.from({ length: 256 }, (_, i) => (i + 0x34) % 256)), /undecodable polling payload/],
    ["an unknown Engine.IO packet type", "9", /undecodable polling payload/],
    ["an empty payload", "", /undecodable polling payload/],
    ["bad base64", "b!!!", /undecodable polling payload/],
    ["an unknown Socket.IO packet type", "49", /undecodable Socket.IO packet/],
    ["a non-array event payload", '42{"a":1}', /undecodable Socket.IO packet/],
    ["an event named like a reserved one", '42["disconnect"]', /undecodable Socket.IO packet/],
    ["broken JSON", '42["echo"', /undecodable Socket.IO packet/],
    ["an ack id over 64 bits", '4399999999999999999999999["x"]', /undecodable Socket.IO packet/],
    ["an event for a namespace never joined", '42/admin,["echo"]', /not joined/],
    ["a client-sent CONNECT_ERROR", '44{"message":"x"}', /server-only packet/],
    ["a binary frame nobody announced", "bAQID", /no packet waiting/],
    ["a text packet where an attachment was due", `451-["echo",{"_placeholder":true,"num":0}]${RS}42["echo"]`, /attachments were awaited/],
    ["a placeholder beyond the attachments", '451-["echo",{"_placeholder":true,"num":3}]', /undecodable Socket.IO packet/],
    ["an attachment count out of range", '45999999-["echo"]', /undecodable Socket.IO packet/],
  ]) {
    it(`closes the session on ${name}`, async () => {
      const sid = await session();
      const res = await post(sid, body);
      assert.ok([200, 400].includes(res.status), `HTTP ${res.status} ${res.body}`);
      await assertClosed(sid);
      assertLogged(log);
    });
  }

  it("closes a session that sends an event before CONNECT", async () => {
    const { sid } = await handshake();
    await post(sid, '42["echo",1]');
    await assertClosed(sid);
    assertLogged(/not joined/);
  });

  it("closes a session that never connects a namespace (connect timeout)", async () => {
    const { sid } = await handshake();
    const started = Date.now();
    // Answer every ping, so that only the 2 s connect timeout can end the session.
    for (;;) {
      const { status, body } = await poll(sid);
      if (status === 400 || body.split(RS).includes("1")) break;
      if (body.split(RS).includes("2")) assert.equal((await post(sid, "3")).status, 200);
      assert.ok(Date.now() - started < 5000, "closed by the connect timeout");
    }
    const closedAfter = Date.now() - started;
    assert.ok(closedAfter >= 1900, `closed after ${closedAfter} ms, not before the 2 s connect timeout`);
    assertLogged(/no namespace joined within the connect timeout/);
  });

  describe("over WebSocket", () => {
    function open(query = "") {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket${query}`);
      const messages = [];
      const waiters = [];
      ws.on("message", (data, binary) => {
        messages.push(binary ? data : data.toString());
        waiters.splice(0).forEach((w) => w());
      });
      const closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
      const next = async (ms = 3000) => {
        const deadline = Date.now() + ms;
        while (messages.length === 0) {
          if (Date.now() > deadline) throw new Error("no message");
          await new Promise((r) => {
            waiters.push(r);
            setTimeout(r, 50);
          });
        }
        return messages.shift();
      };
      return { ws, next, closed };
    }

    async function connected(query) {
      const c = open(query);
      assert.match(await c.next(), /^0\{/);
      c.ws.send("40");
      assert.match(await c.next(), /^40\{"sid":/);
      return c;
    }

    const within = (promise, ms = 3000) =>
      Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("not closed")), ms))]);

    // workerd hands a Worker text frames already decoded (bad bytes become U+FFFD), so
    // the Cloudflare runtime cannot tell them apart and answer 1007 (E2E_RUNTIME=edge).
    const decodedByRuntime = process.env.E2E_RUNTIME === "edge" && "workerd decodes text frames itself";
    it("closes on a text frame that is not UTF-8", { skip: decodedByRuntime }, async () => {
      const c = await connected();
      c.ws.send(Buffer.from([0x34, 0x32, 0xff, 0xfe]), { binary: false });
      assert.equal(await within(c.closed), 1007);
    });

    // On Lambda the functions close a WebSocket through API Gateway's DeleteConnection,
    // which picks the close code itself (1000 in tests/lambda/serve.mjs), not the server.
    const closeCodeOf = (code) => (process.env.E2E_RUNTIME === "lambda" ? 1000 : code);

    it("closes on a message over maxPayload", async () => {
      const c = await connected();
      c.ws.send("4" + "x".repeat(100_001));
      assert.equal(await within(c.closed), closeCodeOf(1009));
    });

    it("closes on a missing binary attachment", async () => {
      const c = await connected();
      c.ws.send('451-["echo",{"_placeholder":true,"num":0}]');
      c.ws.send('42["echo",1]');
      await within(c.closed);
    });

    it("closes on garbage Engine.IO packets", async () => {
      const c = await connected();
      c.ws.send("x");
      await within(c.closed);
    });

    // Echoes one attachment, sent as `attachment` after its header; returns the frame the
    // attachment came back in, after checking the header that came before it.
    async function echoAttachment(c, attachment) {
      c.ws.send('451-0["echo",{"_placeholder":true,"num":0}]');
      c.ws.send(attachment);
      let header = await c.next();
      while (String(header).startsWith('42["welcome"')) header = await c.next();
      assert.equal(header, '461-0[{"_placeholder":true,"num":0}]');
      const back = await c.next();
      c.ws.close();
      return back;
    }

    // API Gateway's WebSocket API closes a connection that sends a binary frame (1003), and
    // the Lambda functions send attachments as base64 text frames.
    const noBinaryFrames = process.env.E2E_RUNTIME === "lambda" && "API Gateway's WebSocket API takes no binary frames";

    it("reassembles a binary event split over frames", { skip: noBinaryFrames }, async () => {
      const back = await echoAttachment(await connected(), Buffer.from([1, 2, 3]));
      assert.deepEqual([...back], [1, 2, 3]);
    });

    it("takes an attachment sent as base64 text", async () => {
      const back = await echoAttachment(await connected(), "bAQID");
      if (noBinaryFrames) assert.equal(back, "bAQID");
      else assert.deepEqual([...back], [1, 2, 3]);
    });

    it("answers a client that asked for b64 in base64 text, as Node does", { skip: noBinaryFrames }, async () => {
      assert.equal(await echoAttachment(await connected("&b64=1"), Buffer.from([1, 2, 3])), "bAQID");
    });

    it("closes on an attachment of invalid base64", async () => {
      const c = await connected();
      c.ws.send('451-0["echo",{"_placeholder":true,"num":0}]');
      c.ws.send("b!!");
      await within(c.closed);
    });
  });

  it("kept the bystander connected and serving throughout", async () => {
    assert.equal(bystander.connected, true);
    assert.equal(await bystander.timeout(2000).emitWithAck("echo", "still here"), "still here");
    const gone = await Promise.race([bystanderGone.then(() => "gone", (e) => e.message), "ok"]);
    assert.equal(gone, "ok");
    assert.equal(server.proc.exitCode, null, "the server is still running");
  });
});
