"""Starts the e2e server (tests/CONTRACT.md) on a free port for the Python client tests.

The binary is target/release/e2e-server unless E2E_SERVER names another one; extra
arguments (for instance `--redis redis://127.0.0.1:PORT/`) come from E2E_SERVER_ARGS.
"""

import contextlib
import itertools
import os
import pathlib
import queue
import re
import subprocess
import tempfile
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
START_TIMEOUT = 30


def _tail(path, limit=4000):
    try:
        return pathlib.Path(path).read_text(errors="replace")[-limit:]
    except OSError:
        return ""


@contextlib.contextmanager
def running_server(extra=()):
    """An e2e-server on a free port: yields its URL, stops it after."""
    exe = os.environ.get("E2E_SERVER", str(ROOT / "target" / "release" / "e2e-server"))
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is missing: run `cargo build --release --bin e2e-server` (or set E2E_SERVER)")
    log = tempfile.NamedTemporaryFile(prefix="e2e-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [exe, "--port", "0", *extra], stdout=subprocess.PIPE, stderr=log, text=True
    )
    lines = queue.Queue()

    def drain():
        # The first line is the address; the rest is read so the pipe never fills up.
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    try:
        try:
            first = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            first = None
        match = re.match(r"listening on (http://[^\s/]+)", first or "")
        if not match:
            pytest.fail(f"server did not start (first line {first!r}); stderr:\n{_tail(log.name)}")
        yield match.group(1)
        crashed = proc.poll()
        if crashed is not None:
            pytest.fail(f"the server exited during the tests (status {crashed}); stderr:\n{_tail(log.name)}")
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()
        os.unlink(log.name)


_prefixes = (f"sio:test:py{os.getpid()}-{n}:" for n in itertools.count())


@pytest.fixture(scope="module")
def server_url():
    extra = os.environ.get("E2E_SERVER_ARGS", "").split()
    if "--redis" in extra:
        # Keys of its own: what an earlier module's server left in Redis stays apart.
        extra += ["--redis-prefix", next(_prefixes)]
    with running_server(extra) as url:
        yield url
