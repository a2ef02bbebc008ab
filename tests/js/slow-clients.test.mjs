// Slow and idle clients (the native listener, started with short timeouts): connections
// that send half a request's headers, a body that never ends, nothing after a response,
// or a WebSocket that never sends a frame are each closed on time, while a healthy client
// is served throughout; a WebSocket that stops reading misses volatile events. The Worker's and the Lambda functions' connections are held by the
// platforms (docs/cloudflare.md, docs/aws.md).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import net from "node:net";
import { startServer, connect } from "./harness.mjs";

const WebSocket = createRequire(import.meta.url)("ws");

const HEADERS_MS = 1000;
const REQUEST_MS = 2000;
/** Longer than any close this file waits for: past it, a connection counts as left open. */
const GIVE_UP_MS = 20_000;

describe("slow and idle clients", { skip: process.env.E2E_SERVER ? "the native runtime's listener" : false }, () => {
  let server;
  let port;
  let healthy;

  before(async () => {
    server = await startServer("e2e-server", ["--headers-timeout", HEADERS_MS, "--request-timeout", REQUEST_MS].map(String));
    port = Number(new URL(server.url).port);
    healthy = (await connect(server.url, { transports: ["websocket"] })).socket;
  });

  after(async () => {
    healthy.close();
    await server.stop();
  });

  /**
   * Opens a raw TCP connection and lets `talk` write to it; resolves with how long after
   * the connection opened the server closed it, and what the server sent.
   */
  function raw(talk) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1");
      let opened = 0;
      let received = "";
      const giveUp = setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after ${GIVE_UP_MS} ms`));
      }, GIVE_UP_MS);
      socket.on("connect", () => {
        opened = Date.now();
        talk(socket);
      });
      socket.on("data", (d) => (received += d));
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(giveUp);
        resolve({ after: Date.now() - opened, received });
      });
    });
  }

  /** The healthy client's echoes, one after another, until `done` settles. */
  async function servedUntil(done) {
    let settled = false;
    done.then(
      () => (settled = true),
      () => (settled = true),
    );
    let echoes = 0;
    while (!settled) {
      assert.equal(await healthy.timeout(1000).emitWithAck("echo", echoes), echoes);
      echoes++;
      await new Promise((r) => setTimeout(r, 50));
    }
    return echoes;
  }

  it("closes connections that send half a request's headers", async () => {
    const half = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n";
    const closes = Promise.all(Array.from({ length: 100 }, () => raw((s) => s.write(half))));
    const echoes = await servedUntil(closes);
    for (const { after, received } of await closes) {
      assert.ok(after >= HEADERS_MS - 100, `closed after ${after} ms, not before the headers timeout`);
      assert.equal(received.includes("HTTP/1.1 200"), false);
    }
    assert.ok(echoes > 0, "the healthy client was served meanwhile");
  });

  it("answers a request whose body never ends with 408, and closes its connection", async () => {
    const open = await (await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`)).text();
    const { sid } = JSON.parse(open.slice(1));
    const closed = raw((s) =>
      s.write(
        `POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
          "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n40",
      ),
    );
    await servedUntil(closed);
    const { after, received } = await closed;
    assert.match(received, /^HTTP\/1\.1 408/);
    assert.ok(after >= REQUEST_MS - 100, `answered after ${after} ms, not before the request timeout`);
  });

  it("closes a keep-alive connection left idle after its response", async () => {
    const request = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n";
    const closed = raw((s) => s.write(request));
    await servedUntil(closed);
    const { after, received } = await closed;
    assert.match(received, /^HTTP\/1\.1 200/, "the request was answered");
    assert.ok(after >= HEADERS_MS - 100, `closed after ${after} ms, not before the headers timeout`);
  });

  it("drops volatile events for a WebSocket that stops reading, and keeps the others", async () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const frames = [];
    ws.on("message", (data) => {
      const text = data.toString();
      if (text === "2") ws.send("3");
      else if (text.startsWith("0")) ws.send("40");
      else if (text.startsWith("40")) {
        ws.send('420["volatile-burst",1000,65536]');
        // Reads nothing more for a while: the socket's buffers fill, then the server's.
        ws._socket.pause();
        setTimeout(() => ws._socket.resume(), 1500);
      } else frames.push(text);
    });
    const done = await new Promise((resolve, reject) => {
      const giveUp = setTimeout(() => reject(new Error("no burst-done")), GIVE_UP_MS);
      ws.on("message", (data) => {
        if (data.toString().startsWith('42["burst-done"')) {
          clearTimeout(giveUp);
          resolve(JSON.parse(data.toString().slice(2)));
        }
      });
    });
    ws.close();
    // (The server keeps events for connection state recovery: an offset follows.)
    assert.deepEqual(done.slice(0, 2), ["burst-done", 1000]);
    const bursts = frames.filter((f) => f.startsWith('42["burst"')).map((f) => JSON.parse(f.slice(2))[1]);
    assert.ok(bursts.length > 0 && bursts.length < 1000, `${bursts.length} of 1000 volatile events arrived`);
    assert.deepEqual(bursts, [...bursts].sort((a, b) => a - b), "in emit order");
    assert.ok(frames.some((f) => f === '430["ok"]'), "the acknowledgement arrived");
  });

  it("closes a WebSocket that never sends a frame (no pong to its pings)", async () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
    const closed = new Promise((resolve, reject) => {
      const giveUp = setTimeout(() => reject(new Error(`still open after ${GIVE_UP_MS} ms`)), GIVE_UP_MS);
      ws.on("close", () => {
        clearTimeout(giveUp);
        resolve();
      });
      ws.on("error", () => {});
    });
    await servedUntil(closed);
    await closed;
  });
});
