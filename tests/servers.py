"""Real ``alias-service serve`` processes for the tests that need a server."""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
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
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

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


def resolved_id(server: Server, mention: str) -> str | None:
    """The ID of the entity ``server`` matches ``mention`` to, None if none."""
    status, body = http("GET", f"{server.origin}/resolve?q={urllib.parse.quote(mention)}")
    assert status == 200, body
    entity = json.loads(body)["entity"]
    return entity and entity["id"]


def seconds_until(
    server: Server, mention: str, expected: str | None, limit: float, since: float | None = None
) -> float:
    """Seconds (from ``since``, a ``time.monotonic()``, or now) until ``server``
    resolves ``mention`` to ``expected``; fails past ``limit``."""
    started = time.monotonic() if since is None else since
    while resolved_id(server, mention) != expected:
        waited = time.monotonic() - started
        assert waited < limit, (
            f"{mention!r} not {expected!r} on {server.origin} after {waited:.2f} s"
        )
        time.sleep(0.02)
    return time.monotonic() - started


@contextmanager
def serve(folder: Path, *args: str, **env: str) -> Iterator[Server]:
    """A server on a free port of 127.0.0.1, ready (``/readyz`` 200) when yielded.

    ``args`` are added to ``alias-service serve``; ``env`` to the environment."""
    with serve_together(folder, 1, *args, **env) as (server,):
        yield server


@contextmanager
def serve_together(folder: Path, count: int, *args: str, **env: str) -> Iterator[list[Server]]:
    """``count`` servers started at the same moment, all ready when yielded."""
    servers: list[Server] = []
    try:
        for _ in range(count):
            servers.append(_start(folder, args, env))
        for server in servers:
            _wait_ready(server)
        yield servers
    finally:
        for server in servers:
            _stop(server.process)


def _start(folder: Path, args: tuple[str, ...], env: dict[str, str]) -> Server:
    port = free_port()
    log = folder / f"server-{port}.log"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'alias-service.db'}", **env}
    command = [sys.executable, "-m", "app.cli", "serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *args], env=environment, cwd=folder, stdout=output, stderr=subprocess.STDOUT
        )
    return Server(origin=f"http://{HOST}:{port}", log=log, process=process)


def _wait_ready(server: Server, path: str = "/readyz") -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        assert server.process.poll() is None, f"the server exited early:\n{server.access_log()}"
        try:
            if http("GET", f"{server.origin}{path}")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{path} not 200 in time:\n{server.access_log()}"
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def nginx_binary() -> str | None:
    """Where nginx is installed (Debian puts it in /usr/sbin, not on every PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


NGINX_SITE = Path(__file__).parents[1] / "deploy" / "nginx.conf"
NGINX_MAIN = """\
daemon off;
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log notice;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/nginx-access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
"""


def nginx_site(*, listen: int, upstreams: list[str]) -> str:
    """``deploy/nginx.conf`` with loopback addresses for its listener and upstream."""
    site = NGINX_SITE.read_text(encoding="utf-8")
    lines = [line for line in site.splitlines() if line.strip().startswith("server replica:8000")]
    assert len(lines) == 1 and site.count("listen 80;") == 1, f"{NGINX_SITE} changed shape"
    servers = "\n".join(lines[0].replace("replica:8000", upstream) for upstream in upstreams)
    return site.replace(lines[0], servers).replace("listen 80;", f"listen {HOST}:{listen};")


@contextmanager
def nginx(folder: Path, upstreams: list[str]) -> Iterator[Server]:
    """nginx (the system's binary) as a proxy in front of ``upstreams`` (host:port),
    answering through to them when yielded; its pid file, logs and temp files in ``folder``."""
    port = free_port()
    # Running as root, nginx would hand its workers to an unprivileged user that
    # cannot enter ``folder``; keep them as the user the test runs as.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        NGINX_MAIN.format(
            user=user, folder=folder, site=nginx_site(listen=port, upstreams=upstreams)
        ),
        encoding="utf-8",
    )
    log = folder / "nginx-error.log"
    binary = nginx_binary()
    assert binary is not None, "nginx is not installed"
    command = [binary, "-p", str(folder), "-e", str(log), "-c", str(config)]
    with log.open("ab") as output:  # what nginx says before it reads its configuration
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    proxy = Server(origin=f"http://{HOST}:{port}", log=log, process=process)
    try:
        _wait_ready(proxy, path="/healthz")
        yield proxy
    finally:
        _stop(process)


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
