#!/usr/bin/env python3
"""Cuts fuzz seeds out of real traffic: what the end-to-end tests' clients sent, recorded
per connection by the test harness with E2E_CAPTURE=DIR (see tests/js/harness.mjs):

    (cd tests && E2E_CAPTURE=/tmp/capture node --test js/e2e.test.mjs js/bad-input.test.mjs)
    python3 fuzz/seeds.py /tmp/capture

Rewrites fuzz/seeds/<target>/ with at most PER_TARGET small, distinct seeds per target.
"""
import base64
import hashlib
import pathlib
import random
import shutil
import sys
from urllib.parse import urlsplit

PER_TARGET = 24
MAX_SEED = 2048
SEP = b"\x1e"


def requests(stream):
    """(method, target, headers, body) per HTTP request, then the WebSocket frames if any."""
    out, frames = [], []
    while stream:
        head, sep, rest = stream.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        method, target = lines[0].split(b" ")[:2]
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(b":") for l in lines[1:])}
        length = int(headers.get(b"content-length", b"0"))
        body, stream = rest[:length], rest[length:]
        out.append((method, target, headers, body))
        if headers.get(b"upgrade", b"").lower() == b"websocket":
            frames = ws_frames(stream)
            break
    return out, frames


def ws_frames(data):
    """(opcode, payload) of each client frame, unmasked."""
    frames = []
    while len(data) >= 2:
        opcode, length = data[0] & 0x0F, data[1] & 0x7F
        at = 2
        if length == 126:
            length, at = int.from_bytes(data[2:4], "big"), 4
        elif length == 127:
            length, at = int.from_bytes(data[2:10], "big"), 10
        mask, at = data[at:at + 4], at + 4
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[at:at + length]))
        if len(payload) < length or opcode == 8:
            break
        frames.append((opcode, payload))
        data = data[at + length:]
    return frames


def op(kind, target, payload):
    return bytes([kind, target, len(payload)]) + payload if len(payload) < 256 else b""


def main(capture, out):
    seeds = {t: set() for t in ["eio_packet", "eio_payload", "handshake_query", "sio_packet", "attachments", "session"]}
    for path in sorted(pathlib.Path(capture).glob("*.bin")):
        reqs, frames = requests(path.read_bytes())
        script = b""
        messages = []  # (text or bytes) Engine.IO messages in order, for attachments
        for method, target, headers, body in reqs:
            query = urlsplit(target.decode("latin-1")).query.encode()
            ws = headers.get(b"upgrade", b"").lower() == b"websocket"
            flags = {b"GET": 0, b"POST": 1, b"OPTIONS": 2}.get(method, 3) | (4 if ws else 0)
            seeds["handshake_query"].add(bytes([flags]) + query)
            if b"sid=" not in query and method == b"GET":
                script += op(0, 1 if ws else 0, b"")
            if method == b"POST" and body:
                seeds["eio_payload"].add(body)
                script += op(1, 0, body) + op(5, 0, b"")
                for segment in body.split(SEP):
                    seeds["eio_packet"].add(segment)
                    if segment.startswith(b"b"):
                        try:
                            messages.append(base64.b64decode(segment[1:], validate=True))
                        except ValueError:
                            pass
                    elif segment.startswith(b"4"):
                        messages.append(segment[1:].decode("utf-8", "replace"))
        for opcode, payload in frames:
            if opcode == 1:
                seeds["eio_packet"].add(payload)
                script += op(2, 0, payload)
                if payload.startswith(b"4"):
                    messages.append(payload[1:].decode("utf-8", "replace"))
            elif opcode == 2:
                script += op(3, 0, payload)
                messages.append(payload)
        for i, message in enumerate(messages):
            if isinstance(message, str):
                seeds["sio_packet"].add(message.encode())
                if message[:1] in "56" and "-" in message:
                    count = message[1:message.index("-")]
                    if count.isdigit():
                        parts = [m for m in messages[i + 1:i + 1 + int(count)] if isinstance(m, bytes)]
                        seeds["attachments"].add(b"\0".join([message.encode(), *parts]))
        if script:
            seeds["session"].add(script + op(4, 8, b""))
    rng = random.Random(8)
    for target, found in seeds.items():
        found = sorted(s for s in found if 0 < len(s) <= MAX_SEED)
        chosen = rng.sample(found, min(PER_TARGET, len(found)))
        folder = pathlib.Path(out) / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for seed in chosen:
            (folder / hashlib.sha1(seed).hexdigest()[:16]).write_bytes(seed)
        print(f"{target}: {len(chosen)} of {len(found)}")


if __name__ == "__main__":
    main(sys.argv[1], pathlib.Path(__file__).parent / "seeds")
