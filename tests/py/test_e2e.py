"""The official Python client (python-socketio, threaded `socketio.Client`) against the e2e
application (tests/CONTRACT.md), over polling only, WebSocket only and polling upgraded to
WebSocket.

Every wait is bounded: events land in queues read with a timeout, and "nothing arrives" is
checked by a bounded wait that must come back empty."""

import itertools
import os
import queue
import random
import threading
import time
from collections import defaultdict

import engineio.payload
import pytest
import socketio
import socketio.packet

pytestmark = pytest.mark.timeout(60)

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": ["polling", "websocket"],
}

SERVER_DISCONNECT = socketio.Client.reason.SERVER_DISCONNECT

# API Gateway closes a WebSocket that sends a binary frame (1003), and python-engineio
# sends every binary message over a WebSocket as one (it has no base64 mode, unlike
# engine.io-client's `forceBase64`): a Python client of the Lambda runtime sends binary
# over polling (README). What it receives over a WebSocket, binary included, is text.
LAMBDA = os.environ.get("E2E_RUNTIME") == "lambda"


def sends_binary(transports):
    """The transports a client that sends binary uses: polling alone on the Lambda runtime."""
    return ["polling"] if LAMBDA else transports


def skip_binary_over_websocket(transports):
    if transports != sends_binary(transports):
        pytest.skip("API Gateway closes a WebSocket that sends a binary frame, and python-engineio has no base64 mode")
_names = itertools.count()


def unique(prefix):
    """A room name no other test (or transport run) uses."""
    return f"{prefix}-{next(_names)}-{time.monotonic_ns()}"


class Peer:
    """A client that records every event it gets, per namespace and name."""

    def __init__(self, url, transports, auth=None, namespaces=("/",), query=""):
        self.client = socketio.Client(reconnection=False)
        self.events = defaultdict(queue.Queue)
        self.errors = defaultdict(queue.Queue)
        self.disconnects = defaultdict(queue.Queue)

        for nsp in namespaces:
            self.client.on("*", self._catch_all(nsp), namespace=nsp)
            self.client.on("connect_error", self._recorder(self.errors[nsp]), namespace=nsp)
            self.client.on("disconnect", self._recorder(self.disconnects[nsp]), namespace=nsp)
        self.client.connect(
            url + query, transports=transports, auth=auth, namespaces=list(namespaces), wait_timeout=5
        )

    def _catch_all(self, namespace):
        def record(event, *args):
            self.events[(namespace, event)].put(args)

        return record

    @staticmethod
    def _recorder(target):
        def record(*args):
            target.put(args)

        return record

    @property
    def sid(self):
        return self.client.get_sid("/")

    def next(self, event, namespace="/", timeout=3):
        """The arguments of the next `event` (the recovery offset, when the server appends
        one, is the last argument, as in Node)."""
        try:
            return self.events[(namespace, event)].get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no {event!r} on {namespace} within {timeout}s")

    def nothing(self, event, namespace="/", wait=0.4):
        with pytest.raises(queue.Empty):
            got = self.events[(namespace, event)].get(timeout=wait)
            print(f"unexpected {event!r}: {got!r}")

    def disconnected(self, namespace="/", timeout=3):
        """The reason given to the next `disconnect` handler call."""
        try:
            args = self.disconnects[namespace].get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no disconnect on {namespace} within {timeout}s")
        return args[0] if args else None

    def call(self, event, *args, namespace="/", timeout=5):
        return self.client.call(event, args, namespace=namespace, timeout=timeout)

    def close(self):
        # python-engineio's polling writer thread leaves its loop, without sending what is
        # queued, if it finds the client disconnecting when it comes back from a POST: an
        # acknowledgement can arrive (by GET) before the POST that carried its event is
        # answered. Waiting for the writer to finish its POSTs first makes sure the
        # DISCONNECT and CLOSE packets are sent at all.
        wait_until(lambda: self.client.eio.queue.unfinished_tasks == 0)
        self.client.disconnect()


def wait_until(predicate, timeout=3):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture(params=list(TRANSPORTS))
def transports(request):
    return TRANSPORTS[request.param]


@pytest.fixture
def peers(server_url, transports):
    made = []

    def make(over=None, **kwargs):
        peer = Peer(server_url, over or transports, **kwargs)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def refusal(server_url, transports, namespace="/", **kwargs):
    """Connects a client that must be refused; returns what its connect_error handler got."""
    client = socketio.Client(reconnection=False)
    errors = queue.Queue()
    client.on("connect_error", lambda *data: errors.put(data), namespace=namespace)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server_url, transports=transports, namespaces=[namespace], wait_timeout=5, **kwargs)
        try:
            return errors.get(timeout=3)
        except queue.Empty:
            pytest.fail("connect_error never called")
    finally:
        client.disconnect()


# --- connection -------------------------------------------------------------------------


def test_connects_is_welcomed_and_keeps_alive(peers, transports):
    peer = peers()
    (welcome, *_rest) = peer.next("welcome")
    assert welcome == {"id": peer.sid, "recovered": False}
    expected = "polling" if transports == ["polling"] else "websocket"
    assert wait_until(lambda: peer.client.transport() == expected), peer.client.transport()
    # Survives several heartbeats (pingInterval 500 ms, pingTimeout 1000 ms): no disconnect.
    with pytest.raises(queue.Empty):
        peer.disconnects["/"].get(timeout=2.5)
    assert peer.client.connected
    assert peer.call("echo", "still here") == "still here"


def test_allow_request_refuses_deny(server_url, transports):
    client = socketio.Client(reconnection=False)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server_url + "?deny=1", transports=transports, wait_timeout=5)
        assert not client.connected
    finally:
        client.disconnect()


# --- echo and binary --------------------------------------------------------------------


def test_echo_with_ack_keeps_binary_in_place(peers, transports):
    skip_binary_over_websocket(transports)
    peer = peers()
    blob = bytes([0, 1, 2, 255])
    other = b"\x00" * 3 + b"tail"
    sent = ("a", 1, {"nested": {"b": blob}, "list": [other, "x"]}, blob, None, True)
    got = peer.call("echo", *sent)
    assert got == sent
    assert type(got[2]["nested"]["b"]) is bytes
    assert type(got[2]["list"][0]) is bytes
    assert type(got[3]) is bytes
    assert peer.call("echo", "only") == "only"
    assert peer.call("echo", b"") == b""


def test_echo_without_ack_comes_back_as_an_event(peers, transports):
    skip_binary_over_websocket(transports)
    peer = peers()
    peer.client.emit("echo", ({"x": [1, 2, 3]}, b"hi"))
    args = peer.next("echo")
    assert args[:2] == ({"x": [1, 2, 3]}, b"hi")
    assert type(args[1]) is bytes
    assert len(args) == 3 and isinstance(args[2], str), "the recovery offset comes last"


def test_burst_of_acks(peers, monkeypatch):
    # python-engineio's client refuses a polling response of more than 16 packets
    # (Payload.max_decode_packets, a known limitation of that client: the Node server, like
    # ours, sends every buffered packet in one response); raise it as its maintainer advises.
    monkeypatch.setattr(engineio.payload.Payload, "max_decode_packets", 1000)
    peer = peers()
    replies = queue.Queue()
    for i in range(100):
        peer.client.emit("echo", (i, f"n{i}"), callback=lambda *got, i=i: replies.put((i, got)))
    # The client runs each incoming packet's handling in a thread of its own, so the order
    # in which callbacks run says nothing about the wire order: check each ack's contents.
    got = dict(replies.get(timeout=5) for _ in range(100))
    assert got == {i: (i, f"n{i}") for i in range(100)}


def test_plain_messages(peers):
    peer = peers()
    peer.client.send("plain")
    assert peer.next("message")[0] == "plain"


# --- namespaces ----------------------------------------------------------------------------


def test_admin_namespace_refuses_without_the_role(server_url, transports):
    assert refusal(server_url, transports, "/admin") == ({"message": "admin only"},)
    assert refusal(server_url, transports, "/admin", auth={"role": "user"}) == ({"message": "admin only"},)


def test_admin_namespace_accepts_the_role(peers, transports):
    peer = peers(auth={"role": "admin"}, namespaces=("/admin",))
    assert peer.next("hello", namespace="/admin")[0] == "admin"
    assert peer.call("echo", "adm", namespace="/admin") == "adm"
    if sends_binary(transports) == transports:
        assert peer.call("echo", "adm", b"\x01", namespace="/admin") == ("adm", b"\x01")


def test_dynamic_namespace(peers):
    peer = peers(namespaces=("/dyn-abc",))
    assert peer.next("hello", namespace="/dyn-abc")[0] == "/dyn-abc"
    assert peer.call("echo", 5, namespace="/dyn-abc") == 5


def test_dynamic_namespace_decides_with_auth(server_url, peers, transports):
    assert refusal(server_url, transports, "/dyn-private2") == ({"message": "Invalid namespace"},)
    peer = peers(namespaces=("/dyn-private2",), auth={"key": "open-sesame"})
    assert peer.next("hello", namespace="/dyn-private2")[0] == "/dyn-private2"


def test_new_namespace_is_told_once_per_first_socket(peers):
    watcher = peers()
    watcher.call("join", "namespace-watchers")
    name = f"/dyn-pynew{time.monotonic_ns()}"
    first = peers(namespaces=(name,))
    assert first.next("hello", namespace=name)[0] == name
    assert watcher.next("new-namespace")[0] == name
    second = peers(namespaces=(name,))
    assert second.next("hello", namespace=name)[0] == name
    watcher.nothing("new-namespace")


def test_census_and_the_parent_namespace(peers):
    stamp = time.monotonic_ns()
    names = [f"/dyn-pyparent{stamp}a", f"/dyn-pyparent{stamp}b"]
    root = peers()
    children = [peers(namespaces=(name,)) for name in names]
    for child, name in zip(children, names):
        assert child.next("hello", namespace=name)[0] == name
    census = root.call("census")
    assert census["clients"] >= 3
    assert [census["namespaces"].get(name) for name in names] == [1, 1]
    listed = root.call("parent-emit", "/dyn-any", "to-children", 9)
    assert [name for name in names if name in listed] == names
    for child, name in zip(children, names):
        assert child.next("to-children", namespace=name)[0] == 9
    root.nothing("to-children")


def test_room_events_as_nodes_adapter_events(peers):
    watcher, a, b = (peers(namespaces=("/rooms",)) for _ in range(3))
    watcher.call("join", "watchers", namespace="/rooms")
    ids = {a.client.get_sid("/rooms"): "a", b.client.get_sid("/rooms"): "b", None: None}
    room = unique("py-room")
    a.call("join", room, namespace="/rooms")
    b.call("join", room, namespace="/rooms")
    b.call("leave", room, namespace="/rooms")
    a.call("leave", room, namespace="/rooms")
    seen = []
    while len(seen) < 6:
        event = watcher.next("room-event", namespace="/rooms")[0]
        if event["room"] == room:
            seen.append((event["kind"], ids.get(event["id"], event["id"])))
    assert seen == [("create", None), ("join", "a"), ("join", "b"), ("leave", "b"), ("leave", "a"), ("delete", None)]


def test_namespaces_multiplexed_on_one_connection(peers):
    peer = peers(auth={"role": "admin"}, namespaces=("/", "/admin", "/dyn-py1"))
    assert peer.next("welcome")[0]["id"] == peer.sid
    assert peer.next("hello", namespace="/admin")[0] == "admin"
    assert peer.next("hello", namespace="/dyn-py1")[0] == "/dyn-py1"
    assert peer.call("echo", "root") == "root"
    assert peer.call("echo", "adm", namespace="/admin") == "adm"
    assert peer.call("echo", "dyn", namespace="/dyn-py1") == "dyn"
    assert len({peer.sid, peer.client.get_sid("/admin"), peer.client.get_sid("/dyn-py1")}) == 3


def test_unknown_namespace_is_refused(server_url, transports):
    assert refusal(server_url, transports, "/nope") == ({"message": "Invalid namespace"},)
    assert refusal(server_url, transports, "/dyn-ABC") == ({"message": "Invalid namespace"},)


def test_middleware_refusal_carries_data(server_url, transports):
    got = refusal(server_url, transports, auth={"token": "bad"})
    assert got == ({"message": "unauthorized", "data": {"reason": "bad token"}},)


def test_middleware_lets_good_tokens_through(peers):
    peer = peers(auth={"token": "good"})
    assert peer.next("welcome")[0]["id"] == peer.sid


# --- rooms and broadcasts ---------------------------------------------------------------------


def test_join_leave_and_to_room(peers):
    a, b = peers(), peers()
    room = unique("py-room")
    assert a.call("join", room) == sorted([a.sid, room])
    assert b.call("to-room", room, "news", {"n": 1}) == "ok"
    assert a.next("news")[0] == {"n": 1}
    b.nothing("news")
    # The sender is included when it is in the room.
    assert b.call("join", room) == sorted([b.sid, room])
    assert b.call("to-room", room, "news", {"n": 2}) == "ok"
    assert a.next("news")[0] == {"n": 2}
    assert b.next("news")[0] == {"n": 2}
    assert a.call("leave", room) == [a.sid]
    assert b.call("to-room", room, "news", {"n": 3}) == "ok"
    assert b.next("news")[0] == {"n": 3}
    a.nothing("news")


def test_numbers_and_text_come_back_exactly(peers):
    # random.random()'s floats, the extremes, integers past 2^53 and past 2^64, long
    # decimal text: echoed and broadcast to a room, each compared exactly.
    rng = random.Random(7)
    data = {
        "random": [rng.random() for _ in range(200)],
        "scaled": [(rng.random() - 0.5) * 10.0 ** rng.randint(-300, 300) for _ in range(50)],
        "floats": [0.9452706955539223, 0.38120423768821243, 5e-324, 1.7976931348623157e308],
        "integers": [2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1],
        "decimals": ["3.14159265358979323846264338327950288419716939937510"],
    }
    peer = peers()
    assert peer.call("echo", data) == data
    room = unique("py-numbers")
    peer.call("join", room)
    assert peer.call("to-room", room, "numbers", data) == "ok"
    assert peer.next("numbers")[0] == data


def test_to_room_carries_binary(peers, transports):
    a, b = peers(), peers(over=sends_binary(transports))
    room = unique("py-bin")
    a.call("join", room)
    b.call("to-room", room, "blob", {"data": b"\xde\xad\xbe\xef"})
    got = a.next("blob")[0]
    assert got == {"data": b"\xde\xad\xbe\xef"} and type(got["data"]) is bytes


def test_except(peers):
    a, b, c = peers(), peers(), peers()
    to_room, except_room = unique("px1"), unique("px2")
    for room in (to_room, except_room):
        a.call("join", room)
    b.call("join", to_room)
    assert c.call("except", to_room, except_room, "only", 7) == "ok"
    assert b.next("only")[0] == 7
    a.nothing("only")
    c.nothing("only")


def test_broadcast_excludes_the_sender(peers):
    a, b, c = peers(), peers(), peers()
    assert a.call("broadcast", "bc", "x") == "ok"
    assert b.next("bc")[0] == "x"
    assert c.next("bc")[0] == "x"
    a.nothing("bc")


def test_volatile_reaches_connected_clients(peers):
    a, b = peers(), peers()
    assert a.call("volatile", "vol", 1) == "ok"
    assert a.next("vol")[0] == 1
    assert b.next("vol")[0] == 1


def test_volatile_to_the_socket_only(peers):
    a, b = peers(), peers()
    assert a.call("volatile-me", "vol-me", 2) == "ok"
    assert a.next("vol-me")[0] == 2
    b.nothing("vol-me")


def test_server_side_emit_reaches_the_other_instances(peers):
    # The other objects of the pool on Cloudflare (tests/edge/serve.mjs), no other instance
    # natively with one process or on Lambda.
    others = int(os.environ.get("EDGE_OBJECTS", "3")) - 1 if os.environ.get("E2E_RUNTIME") == "edge" else 0
    peer = peers()
    assert peer.call("cluster-ask", "hi", 2000) == {"replies": [["pong", "hi"]] * others, "timedOut": False}
    watchers = unique("told")
    peer.call("join", watchers)
    assert peer.call("cluster-tell", watchers, "news") is True
    for _ in range(others):
        assert peer.next("told")[0] == "news"
    peer.nothing("told")


def test_a_handler_reaches_another_namespace(peers):
    name = f"/dyn-py{time.monotonic_ns()}"
    sender, other = peers(), peers(namespaces=(name,))
    assert other.next("hello", namespace=name)[0] == name
    assert sender.call("to-nsp", name, "news", {"n": 1}) == 1
    assert other.next("news", namespace=name)[0] == {"n": 1}
    sender.nothing("news")


def test_a_handler_sees_whether_its_socket_is_connected(peers):
    watcher, stays, leaves = peers(), peers(), peers()
    watchers = unique("watch")
    watcher.call("join", watchers)
    assert stays.call("connected-later", 100, watchers) is True
    assert watcher.next("connected-report")[0] == {"id": stays.sid, "connected": True}
    sid = leaves.sid
    assert leaves.call("connected-later", 800, watchers) is True
    leaves.close()
    assert watcher.next("connected-report")[0] == {"id": sid, "connected": False}


def test_typed_arguments(peers):
    peer = peers()
    assert peer.call("typed") == [1, 2]
    text, n, binary, point = peer.next("typed")[:4]
    assert (text, n, binary, point) == ("text", 42, b"\x01\x02\x03", {"x": 1, "y": -2})
    assert peer.call("sum", 2, 40) == 42
    assert peer.call("sum", "two") == {"error": "sum(a, b)"}


def test_outgoing_listener_sees_emits(peers):
    peer = peers()
    peer.call("to-room", peer.sid, "watched", 1)
    assert peer.next("watched")[0] == 1
    assert peer.next("outgoing-seen")[0] == "watched"


def test_disconnecting_tells_the_rooms(peers):
    a, b = peers(), peers()
    room = unique("bye")
    a.call("join", room)
    b.call("join", room)
    gone = b.sid
    # The client's namespace DISCONNECT packet alone (what Client.disconnect() sends first),
    # with the transport left open.
    b.client._send_packet(b.client.packet_class(socketio.packet.DISCONNECT, namespace="/"))
    assert a.next("left")[0] == {"id": gone, "reason": "client namespace disconnect"}
    a.nothing("left")


def test_closing_client_tells_the_rooms(peers, transports):
    a, b = peers(), peers()
    room = unique("bye-all")
    a.call("join", room)
    b.call("join", room)
    gone = b.sid
    b.close()
    left = a.next("left")[0]
    assert left["id"] == gone
    if transports == ["polling"]:
        assert left["reason"] == "client namespace disconnect"
    else:
        # python-engineio queues the DISCONNECT and CLOSE packets for its writer thread and
        # closes the WebSocket at once, so they may never be written: then the server sees a
        # bare transport close.
        assert left["reason"] in ("client namespace disconnect", "transport close")


# --- acknowledgements from the client ---------------------------------------------------------


def test_server_asks_the_client(peers):
    peer = peers()
    peer.client.on("question", lambda q: f"answer to {q}")
    assert peer.call("ask", "life", 2000) == {"answer": "answer to life"}


def test_server_ask_times_out_when_the_client_does_not_answer(peers):
    peer = peers()
    release = threading.Event()
    asked = queue.Queue()

    def slow(q):
        asked.put(q)
        release.wait(10)  # the ack (this return) is sent only after the server gave up
        return "too late"

    peer.client.on("question", slow)
    try:
        started = time.monotonic()
        assert peer.call("ask", "ignore me", 300) == {"error": "timeout"}
        assert time.monotonic() - started >= 0.25
        assert asked.get(timeout=1) == "ignore me"
    finally:
        release.set()
    # The late ack is ignored and the connection goes on.
    assert peer.call("echo", "after") == "after"


def test_store_backed_ask(peers):
    peer = peers()
    release = threading.Event()

    def answer(q):
        if q == "slow":
            release.wait(10)
        return f"re {q}"

    peer.client.on("question", answer)
    try:
        assert peer.call("ask-later", "quick", 2000) is True
        assert peer.next("answered")[0] == {"asked": "quick", "answer": "re quick"}
        assert peer.call("ask-later", "slow", 300) is True
        assert peer.next("answered")[0] == {"asked": "slow", "error": "operation has timed out"}
    finally:
        release.set()


def test_room_acks_are_gathered(peers):
    a, b = peers(), peers()
    a.client.on("poll", lambda: "a")
    b.client.on("poll", lambda: {"b": 2})
    room = unique("gather")
    a.call("join", room)
    b.call("join", room)
    # Sorted as JSON strings: '"a"' < '{"b":2}'.
    assert a.call("ask-room", room, 2000) == {"answers": ["a", {"b": 2}], "error": None}


def test_room_acks_report_a_timeout(peers):
    a, b = peers(), peers()
    release = threading.Event()
    a.client.on("poll", lambda: "a")
    b.client.on("poll", lambda: (release.wait(10), "late")[1])
    room = unique("gather-slow")
    a.call("join", room)
    b.call("join", room)
    try:
        assert a.call("ask-room", room, 400) == {"answers": ["a"], "error": "timeout"}
    finally:
        release.set()


# --- socket data, fetch and room management -------------------------------------------------------


def test_socket_data(peers):
    peer = peers(auth={"name": "py"})
    assert peer.call("get-data") == {"name": "py"}
    assert peer.call("set-data", {"score": 9, "tags": ["x"]}) is True
    assert peer.call("get-data") == {"score": 9, "tags": ["x"]}
    anonymous = peers()
    assert anonymous.call("get-data") == {"name": None}


def test_fetch_sockets(peers):
    a, b, c = peers(auth={"name": "a"}), peers(auth={"name": "b"}), peers()
    room = unique("fetch")
    a.call("join", room)
    b.call("join", room)
    b.call("set-data", {"score": 1})
    expected = sorted(
        [
            {"id": a.sid, "data": {"name": "a"}, "rooms": sorted([a.sid, room])},
            {"id": b.sid, "data": {"score": 1}, "rooms": sorted([b.sid, room])},
        ],
        key=lambda s: s["id"],
    )
    assert c.call("fetch", room) == expected
    assert c.call("fetch", unique("empty")) == []


def test_fetched_sockets_act_as_remote_sockets(peers):
    a, b = peers(), peers()
    group = unique("remote")
    for name, peer in (("a", a), ("b", b)):
        peer.call("join", group)
        peer.client.on("question", lambda q, name=name: f"{name}: {q}")
    assert a.call("remote-ops", group) == ["a: remote?", "b: remote?"]
    assert a.next("remote-hello")[0] == a.sid
    assert b.next("remote-hello")[0] == b.sid
    for peer in (a, b):
        assert peer.call("leave", "nothing") == sorted([peer.sid, f"{group}-joined"])
    b.call("join", group)
    assert a.call("remote-kick", group) == 1
    assert b.disconnected() == SERVER_DISCONNECT
    assert a.client.connected


def test_sockets_join_and_leave(peers):
    a, b, c = peers(), peers(), peers()
    room, extra = unique("sj"), unique("sj-new")
    a.call("join", room)
    b.call("join", room)
    assert c.call("sockets-join", room, extra) == "ok"
    assert [s["id"] for s in c.call("fetch", extra)] == sorted([a.sid, b.sid])
    assert a.call("join", room) == sorted([a.sid, room, extra])
    assert c.call("sockets-leave", room, extra) == "ok"
    assert c.call("fetch", extra) == []
    assert b.call("leave", "nothing") == sorted([b.sid, room])


def test_disconnect_room(peers):
    a, b, c = peers(), peers(), peers()
    room = unique("doomed")
    a.call("join", room)
    b.call("join", room)
    assert c.call("disconnect-room", room) == "ok"
    assert a.disconnected() == SERVER_DISCONNECT
    assert b.disconnected() == SERVER_DISCONNECT
    assert wait_until(lambda: not a.client.connected and not b.client.connected)
    assert c.call("echo", "alive") == "alive"
    assert c.call("fetch", room) == []


# --- packet middleware and the catch-all -------------------------------------------------------


def test_packet_middleware(peers):
    peer = peers()
    assert peer.call("shout", "hi", 2) == ("HI", 2)
    with pytest.raises(socketio.exceptions.TimeoutError):
        peer.call("forbidden", timeout=1)
    assert peer.next("error-seen")[0] == "forbidden event"
    assert peer.client.connected
    assert peer.call("echo", "ok") == "ok"


def test_catch_all_counts_events(peers):
    peer = peers()
    peer.call("echo", 1)
    peer.call("echo", 2)
    peer.call("get-data")
    assert peer.call("count") == 4
    assert peer.call("count") == 5


def test_whoami(peers, transports):
    peer = peers(auth={"name": "who"}, query="?flavour=py")
    me = peer.call("whoami")
    assert me["id"] == peer.sid
    assert me["nsp"] == "/"
    assert me["handshake"]["auth"] == {"name": "who"}
    query = me["handshake"]["query"]
    assert query["flavour"] == "py"
    assert query["EIO"] == "4"
    assert query["transport"] == transports[0]


# --- server-side disconnects --------------------------------------------------------------------


def test_disconnect_me(peers):
    peer, witness = peers(), peers()
    room = unique("witness")
    peer.call("join", room)
    witness.call("join", room)
    gone = peer.sid
    peer.client.emit("disconnect-me")
    assert peer.disconnected() == SERVER_DISCONNECT
    assert wait_until(lambda: not peer.client.connected)
    assert witness.next("left")[0] == {"id": gone, "reason": "server namespace disconnect"}


def test_close_me(peers):
    peer = peers()
    peer.client.emit("close-me")
    assert peer.disconnected() == SERVER_DISCONNECT
    assert wait_until(lambda: not peer.client.connected)


def test_forced_close_reaches_the_next_poll(server_url):
    """Raw Engine.IO polling: `close-me` while a GET is parked. That GET takes the
    DISCONNECT packet; the client's next GET, a little later, must still get the close
    packet, as from Node (polling.ts doClose buffers an orderly close until the next poll
    and answers it with noop + close), not 400 "Session ID unknown"."""
    import concurrent.futures
    import json

    import requests

    base = f"{server_url}/socket.io/?EIO=4&transport=polling"
    with requests.Session() as http, concurrent.futures.ThreadPoolExecutor(1) as pool:
        opened = http.get(base, timeout=5)
        assert opened.status_code == 200 and opened.text.startswith("0")
        url = f"{base}&sid={json.loads(opened.text[1:])['sid']}"
        assert http.post(url, data="40", timeout=5).text == "ok"
        # Polls until the welcome event and the first ping have come, and answers the ping:
        # the next ping is then a whole pingInterval (500 ms) away, so none takes the place
        # of the DISCONNECT packet in the parked GET, however long the handshake took.
        seen = []
        while not ("2" in seen and any("welcome" in p for p in seen)):
            reply = http.get(url, timeout=5)
            assert reply.status_code == 200
            seen += reply.text.split("\x1e")
        assert http.post(url, data="3", timeout=5).text == "ok"
        parked = pool.submit(requests.get, url, timeout=5)
        time.sleep(0.2)  # lets the GET park
        assert http.post(url, data='42["close-me"]', timeout=5).text == "ok"
        first = parked.result(timeout=5)
        assert first.status_code == 200
        packets = first.text.split("\x1e")
        assert packets[0] == "41", packets
        if packets[-1] != "1":
            time.sleep(0.3)  # the next poll comes after the server has closed the session
            late = requests.get(url, timeout=5)
            assert late.status_code == 200, f"after {packets}: {late.status_code} {late.text}"
            packets += late.text.split("\x1e")
        assert packets[-1] == "1", packets
