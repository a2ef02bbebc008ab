// The lobby through the official client, over both transports, against the server that
// `STARTER_SERVER` starts: a command (split on spaces) that prints
// `listening on http://HOST:PORT` first and stops on SIGTERM, e.g.
//   STARTER_SERVER="target/debug/starter --port 0" node --test test/
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const command = (process.env.STARTER_SERVER ?? "target/debug/starter --port 0").split(" ").filter(Boolean);
let server;
let url;

before(async () => {
  server = spawn(command[0], command.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${command.join(" ")} did not start`)), 60_000);
    server.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on("exit", (code) => reject(new Error(`${command.join(" ")} exited with ${code}`)));
  });
});

after(() => {
  server.kill("SIGTERM");
});

const clients = [];
function connect(options) {
  const socket = io(url, { reconnection: false, forceNew: true, ...options });
  clients.push(socket);
  return socket;
}

function next(socket, event, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    socket.once(event, (value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function player(name, transports) {
  const socket = connect({ auth: { name }, transports });
  await next(socket, "connect");
  return socket;
}

for (const [label, transports] of [
  ["polling", ["polling"]],
  ["websocket", ["websocket"]],
  ["polling, then upgrade", ["polling", "websocket"]],
]) {
  describe(`the lobby over ${label}`, () => {
    after(() => clients.splice(0).forEach((s) => s.disconnect()));

    test("a player without a name is refused", async () => {
      const socket = connect({ transports });
      const error = await next(socket, "connect_error");
      assert.equal(error.message, "a player name is required");
    });

    test("join answers with the room's players; a move reaches the others in the room", async () => {
      const room = `room-${label}-${Date.now()}`;
      const alice = await player("alice", transports);
      const bob = await player("bob", transports);
      const outsider = await player("carol", transports);
      const first = await alice.timeout(10_000).emitWithAck("join", room);
      assert.deepEqual(first, { ok: true, room, players: ["alice"] });
      const joined = next(alice, "joined");
      const second = await bob.timeout(10_000).emitWithAck("join", room);
      assert.deepEqual(second, { ok: true, room, players: ["alice", "bob"] });
      assert.deepEqual(await joined, { name: "bob" });
      let overheard = false;
      outsider.on("moved", () => (overheard = true));
      const moved = next(bob, "moved");
      alice.emit("move", { x: 1, y: 2 });
      assert.deepEqual(await moved, { name: "alice", move: { x: 1, y: 2 } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(overheard, false, "a player outside the room got the move");
    });
  });
}
