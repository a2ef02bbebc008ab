// The sio-bench server contract (the sio-bench README, in ../shared/tools/sio-bench beside
// the repository) on Node socket.io 4: `node server.mjs PORT`.
//
// - `echo`: ack with the arguments received.
// - `broadcast`: emit `broadcast` with the same arguments to every other socket, then ack.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 3000);
const httpServer = createServer();
const io = new Server(httpServer);

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    if (ack) ack(...args);
  });
  socket.on("broadcast", (...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    socket.broadcast.emit("broadcast", ...args);
    if (ack) ack();
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  const { port: bound } = httpServer.address();
  console.log(`listening on http://127.0.0.1:${bound}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}
