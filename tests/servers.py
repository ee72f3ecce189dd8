"""Real ``alias-service serve`` processes for the tests that need a server."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0


@dataclass
class Server:
    origin: str
    log: Path
    pid: int

    def access_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Send one request; the status and the body as text."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode("utf-8")


@contextmanager
def serve(folder: Path, *options: str, **env: str) -> Iterator[Server]:
    """A server on a free port of 127.0.0.1, ready (``/readyz`` 200) when yielded;
    ``options`` are more arguments of ``serve`` (``--workers 2``)."""
    port = free_port()
    origin = f"http://{HOST}:{port}"
    log = folder / f"server-{port}.log"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'alias-service.db'}", **env}
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
    command += options
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=environment, cwd=folder, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, f"the server exited early:\n{log.read_text()}"
            try:
                if http("GET", f"{origin}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"/readyz not 200 in time:\n{log.read_text()}"
            time.sleep(0.1)
        yield Server(origin=origin, log=log, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def resolved_id(server: Server, mention: str) -> str | None:
    status, body = http("GET", f"{server.origin}/resolve?q={mention}")
    assert status == 200
    entity = json.loads(body)["entity"]
    return entity and entity["id"]


def seconds_until(server: Server, mention: str, expected: str | None, limit: float) -> float:
    """How long until ``mention`` resolves to ``expected``; fails past ``limit`` seconds."""
    started = time.monotonic()
    while resolved_id(server, mention) != expected:
        waited = time.monotonic() - started
        assert waited < limit, (
            f"{mention!r} not {expected!r} on {server.origin} after {waited:.2f} s"
        )
        time.sleep(0.02)
    return time.monotonic() - started
