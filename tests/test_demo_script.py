"""`make demo` refuses to start beside something already listening on its ports, before it touches anything."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("taken", ["PORT", "STRIPE_PORT"])
def test_a_port_already_in_use_stops_the_demo_with_one_plain_line(tmp_path, taken):
    # Another demo's local Stripe server on STRIPE_PORT used to answer for this one's: the demo loaded, and every
    # payment stayed "waiting for Stripe to confirm", as the other server's events named transfers it never made.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    ports = {"PORT": str(_free_port()), "STRIPE_PORT": str(_free_port())}
    ports[taken] = str(listener.getsockname()[1])
    database = tmp_path / "demo.sqlite"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{database}", **ports}
    try:
        done = subprocess.run(["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    finally:
        listener.close()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and f"Port {ports[taken]} is already in use" in done.stderr
    assert not database.exists()  # it stopped before migrating or loading anything
