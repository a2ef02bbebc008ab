"""Starts the e2e server (tests/CONTRACT.md) on a free port for the Python client tests."""

import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server_url():
    exe = os.environ.get("E2E_SERVER", str(ROOT / "target" / "release" / "e2e-server"))
    extra = os.environ.get("E2E_SERVER_ARGS", "").split()
    proc = subprocess.Popen(
        [exe, "--port", "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, f"server did not start: {line!r}"
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
