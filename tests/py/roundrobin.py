"""A round-robin front for several server processes, for the Python cluster tests: every
HTTP request and every WebSocket goes to the next backend in turn (no sticky sessions)."""

import asyncio
import itertools
import threading


class RoundRobin:
    def __init__(self, backends):
        self._next = itertools.cycle(backends)
        self.routed = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self._port}"

    def _run(self):
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self._port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
            host, port = next(self._next)
            self.routed.append((lines[0].split(" ")[0], port))
            up_reader, up_writer = await asyncio.open_connection(host, port)
            if headers.get("upgrade", "").lower() == "websocket":
                up_writer.write(head)
                await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
                return
            # One request per connection: the next one must be free to go elsewhere.
            kept = [l for l in lines[1:] if l and not l.lower().startswith("connection:")]
            up_writer.write("\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1"))
            length = int(headers.get("content-length", "0"))
            if length:
                up_writer.write(await reader.readexactly(length))
            await up_writer.drain()
            writer.write(await up_reader.read())
            await writer.drain()
            up_writer.close()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def close(self):
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
