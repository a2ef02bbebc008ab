"""The official Python client (python-socketio) against the e2e application, over
polling only, WebSocket only and polling upgraded to WebSocket."""

import queue
import time
from collections import defaultdict

import pytest
import socketio

pytestmark = pytest.mark.timeout(60)

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}


class Peer:
    """A client that records every event it gets, per namespace and name."""

    def __init__(self, url, transports, auth=None, namespaces=("/",)):
        self.client = socketio.Client(reconnection=False)
        self.events = defaultdict(queue.Queue)
        self.errors = defaultdict(queue.Queue)
        self.disconnects = queue.Queue()

        for nsp in namespaces:
            self.client.on("*", self._catch_all(nsp), namespace=nsp)
            self.client.on("connect_error", self._recorder(self.errors, nsp), namespace=nsp)
            self.client.on("disconnect", self._recorder(self.disconnects, None), namespace=nsp)
        self.client.connect(
            url, transports=transports, auth=auth, namespaces=list(namespaces), wait_timeout=5
        )

    def _catch_all(self, namespace):
        def record(event, *args):
            self.events[(namespace, event)].put(args)

        return record

    @staticmethod
    def _recorder(target, key):
        def record(*args):
            (target if key is None else target[key]).put(args)

        return record

    def next(self, event, namespace="/", timeout=3):
        """The arguments of the next `event` (the recovery offset, when the server appends
        one, is the last argument, as in Node)."""
        return self.events[(namespace, event)].get(timeout=timeout)

    def nothing(self, event, namespace="/", wait=0.3):
        with pytest.raises(queue.Empty):
            self.events[(namespace, event)].get(timeout=wait)

    def call(self, event, *args, namespace="/"):
        return self.client.call(event, args, namespace=namespace, timeout=5)

    def close(self):
        self.client.disconnect()


@pytest.fixture(params=list(TRANSPORTS))
def transports(request):
    return TRANSPORTS[request.param]


@pytest.fixture
def peers(server_url, transports):
    made = []

    def make(**kwargs):
        peer = Peer(server_url, transports, **kwargs)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def test_connects_and_is_welcomed(peers, transports):
    peer = peers()
    welcome = peer.next("welcome")[0]
    assert welcome == {"id": peer.client.get_sid("/"), "recovered": False}
    expected = "polling" if transports == ["polling"] else "websocket"
    deadline = time.monotonic() + 3
    while peer.client.transport() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert peer.client.transport() == expected
    time.sleep(1.5)  # several heartbeats (pingInterval 500 ms, pingTimeout 1000 ms)
    assert peer.client.connected
    assert peer.disconnects.empty()


def test_echo_with_ack_keeps_binary_in_place(peers):
    peer = peers()
    blob = bytes([0, 1, 2, 255])
    assert peer.call("echo", "a", 1, {"nested": blob}, blob) == ("a", 1, {"nested": blob}, blob)
    assert peer.call("echo", "only") == "only"


def test_echo_without_ack_comes_back_as_an_event(peers):
    peer = peers()
    peer.client.emit("echo", ({"x": [1, 2, 3]}, b"hi"))
    args = peer.next("echo")
    assert args[:2] == ({"x": [1, 2, 3]}, b"hi")
    assert isinstance(args[2], str), "the recovery offset comes last"


def test_rooms_and_room_emits(peers):
    a, b = peers(), peers()
    a_id = a.client.get_sid("/")
    assert a.call("join", "py-room") == sorted([a_id, "py-room"])
    assert b.call("to-room", "py-room", "news", {"n": 1}) == "ok"
    assert a.next("news")[0] == {"n": 1}
    b.nothing("news")
    assert a.call("leave", "py-room") == [a_id]
    b.call("to-room", "py-room", "news", {"n": 2})
    a.nothing("news")


def test_except_and_broadcast(peers):
    a, c = peers(), peers()
    for room in ("px1", "px2"):
        a.call("join", room)
    c.call("join", "px1")
    c.call("except", "px1", "px2", "only", 7)
    assert c.next("only")[0] == 7
    a.nothing("only")
    a.call("broadcast", "bc", "x")
    assert c.next("bc")[0] == "x"
    a.nothing("bc")


def test_server_asks_the_client(peers):
    peer = peers()
    peer.client.on("question", lambda q: f"answer to {q}")
    assert peer.call("ask", "life", 2000) == {"answer": "answer to life"}


def test_room_acks_are_gathered(peers):
    a, b = peers(), peers()
    a.client.on("poll", lambda: "a")
    b.client.on("poll", lambda: "b")
    room = f"gather-{a.client.get_sid('/')}"
    a.call("join", room)
    b.call("join", room)
    assert a.call("ask-room", room, 2000) == {"answers": ["a", "b"], "error": None}


def test_socket_data_and_fetch(peers):
    peer = peers(auth={"name": "py"})
    sid = peer.client.get_sid("/")
    assert peer.call("get-data") == {"name": "py"}
    assert peer.call("set-data", {"score": 9}) is True
    assert peer.call("get-data") == {"score": 9}
    room = f"fetch-{sid}"
    peer.call("join", room)
    assert peer.call("fetch", room) == [{"id": sid, "data": {"score": 9}, "rooms": sorted([sid, room])}]


def test_admin_namespace_and_dynamic_namespaces(peers):
    peer = peers(auth={"role": "admin"}, namespaces=("/", "/admin", "/dyn-py1"))
    assert peer.next("hello", namespace="/admin")[0] == "admin"
    assert peer.next("hello", namespace="/dyn-py1")[0] == "/dyn-py1"
    assert peer.call("echo", 5, namespace="/dyn-py1") == 5


def test_admin_namespace_refuses_others(server_url, transports):
    client = socketio.Client(reconnection=False)
    errors = queue.Queue()
    client.on("connect_error", lambda data: errors.put(data), namespace="/admin")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server_url, transports=transports, namespaces=["/admin"], wait_timeout=5)
    assert errors.get(timeout=3) == {"message": "admin only"}
    client.disconnect()


def test_unknown_namespace_is_refused(server_url, transports):
    client = socketio.Client(reconnection=False)
    errors = queue.Queue()
    client.on("connect_error", lambda data: errors.put(data), namespace="/nope")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server_url, transports=transports, namespaces=["/nope"], wait_timeout=5)
    assert errors.get(timeout=3) == {"message": "Invalid namespace"}
    client.disconnect()


def test_refusal_data_reaches_connect_error(server_url, transports):
    client = socketio.Client(reconnection=False)
    errors = queue.Queue()
    client.on("connect_error", lambda data: errors.put(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server_url, transports=transports, auth={"token": "bad"}, wait_timeout=5)
    assert errors.get(timeout=3) == {"message": "unauthorized", "data": {"reason": "bad token"}}
    client.disconnect()


def test_server_side_disconnect(peers):
    peer = peers()
    peer.client.emit("disconnect-me")
    peer.disconnects.get(timeout=3)
    deadline = time.monotonic() + 3
    while peer.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not peer.client.connected
