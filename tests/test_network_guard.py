"""The suite's network guard reaches the Python processes tests start, not only the pytest process."""

from __future__ import annotations

import socket
import subprocess
import sys

# 192.0.2.0/24 is TEST-NET-1: unroutable, so without the guard the child would hang or fail with a routing error.
OUTSIDE = ("192.0.2.1", 80)


def _child(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_child_python_cannot_reach_beyond_loopback():
    out = _child(f"import socket\nsocket.create_connection({OUTSIDE!r}, timeout=5)")
    assert out.returncode != 0
    assert f"AssertionError: network access attempted: {OUTSIDE!r}" in out.stderr, out.stderr


def test_a_child_python_can_use_loopback():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        port = listener.getsockname()[1]
        child = subprocess.Popen(
            [sys.executable, "-c", f"import socket\nsocket.create_connection(('127.0.0.1', {port})).sendall(b'ok')"],
            stderr=subprocess.PIPE,
            text=True,
        )
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(30)
            assert conn.recv(2) == b"ok"
        _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
