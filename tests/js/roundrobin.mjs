// A round-robin front for several server processes: every HTTP request and every
// WebSocket goes to the next backend in turn, so that consecutive requests of one
// session land on different processes (the opposite of sticky sessions).
import http from "node:http";
import net from "node:net";

export async function roundRobin(backends) {
  let next = 0;
  const pick = () => {
    const url = new URL(backends[next % backends.length]);
    next += 1;
    return url;
  };
  const routed = [];
  const tunnels = new Set();
  const server = http.createServer((req, res) => {
    const target = pick();
    routed.push({ method: req.method, url: req.url, to: target.port });
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      }
    );
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  server.on("upgrade", (req, socket, head) => {
    const target = pick();
    routed.push({ method: "UPGRADE", url: req.url, to: target.port });
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const drop = () => {
      socket.destroy();
      upstream.destroy();
      tunnels.delete(drop);
    };
    tunnels.add(drop);
    upstream.on("error", drop);
    socket.on("error", drop);
    upstream.on("close", drop);
    socket.on("close", drop);
  });
  server.keepAliveTimeout = 0;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    routed,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
        for (const drop of [...tunnels]) drop();
      }),
  };
}
