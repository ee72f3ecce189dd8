"""Real ``alias-service serve`` processes for the tests that need a server."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, str]:
    """Send one request; the status and the body as text."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode("utf-8")


@contextmanager
def serve(folder: Path, **env: str) -> Iterator[Server]:
    """A server on a free port of 127.0.0.1, ready (``/readyz`` 200) when yielded."""
    port = free_port()
    origin = f"http://{HOST}:{port}"
    log = folder / f"server-{port}.log"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'alias-service.db'}", **env}
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
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


@contextmanager
def tcp_relay(port: int, target: tuple[str, int]) -> Iterator[None]:
    """Listen on ``port`` of 127.0.0.1 and pass each connection on to ``target``.

    A server that is not there yet and then comes up, for start-up tests.
    """
    listener = socket.create_server((HOST, port))
    listener.settimeout(0.1)
    stop = threading.Event()
    opened: list[socket.socket] = []

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(target)
            opened.extend((client, upstream))
            for ends in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=ends, daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for each in opened:
            each.close()
