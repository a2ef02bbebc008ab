"""python-socketio against several native processes on one Redis, no sticky sessions:
a round-robin front sends every HTTP request and WebSocket to the next process."""

import contextlib
import socket
import subprocess
import time

import pytest

from conftest import running_server
from roundrobin import RoundRobin
from test_e2e import Peer, unique

pytestmark = pytest.mark.timeout(60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/"
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def cluster(redis_url):
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(running_server(["--redis", redis_url])) for _ in range(2)]
        front = RoundRobin([("127.0.0.1", int(url.rsplit(":", 1)[1])) for url in urls])
        stack.callback(front.close)
        yield urls, front


@pytest.fixture
def peers():
    made = []

    def make(url, transports, **kwargs):
        peer = Peer(url, transports, **kwargs)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
def test_a_session_served_by_alternating_processes(cluster, peers, transports):
    _, front = cluster
    start = len(front.routed)
    peer = peers(front.url, transports)
    assert peer.next("welcome", timeout=5)[0]["recovered"] is False
    for i in range(5):
        assert peer.call("echo", i) == i
    assert peer.call("echo", b"\x01\x02") == b"\x01\x02"
    time.sleep(1.5)  # heartbeats answered on whichever process
    assert peer.client.connected
    assert {port for _, port in front.routed[start:]} == {port for _, port in front.routed}
    assert len({port for _, port in front.routed[start:]}) == 2


def test_rooms_broadcasts_and_acks_across_processes(cluster, peers):
    (one, two), _ = cluster
    a = peers(one, ["websocket"], auth={"name": "a"})
    b = peers(two, ["polling"], auth={"name": "b"})
    room = unique("py-cluster")
    for peer, name in ((a, "a"), (b, "b")):
        peer.next("welcome", timeout=5)
        peer.call("join", room)
        peer.client.on("poll", lambda name=name: name)
    assert b.call("to-room", room, "news", {"n": 1}) == "ok"
    assert a.next("news")[0] == {"n": 1}
    assert b.next("news")[0] == {"n": 1}
    assert sorted(s["data"]["name"] for s in a.call("fetch", room)) == ["a", "b"]
    assert a.call("ask-room", room, 3000) == {"answers": ["a", "b"], "error": None}
