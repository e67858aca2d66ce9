"""A server process for a test: started, polled until Streamlit says it is healthy, and always stopped."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.test_e2e import wait_healthy


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process, killing it if it has not exited within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def streamlit_server(command: list[str], cwd: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """Run ``command`` (a Streamlit server on ``port``) with its output in ``cwd/server.log``; yields its URL."""
    with (cwd / "server.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=90)
        yield url
    finally:
        stop(proc)
