"""What a client can hold of a real ``alias-service serve``: connections, memory, a core.

Half-sent headers and bodies are closed after their timeouts, headers past
``MAX_HEADER_BYTES`` are refused without the server buffering them, idle
keep-alive connections are closed, connections past ``LIMIT_CONCURRENCY``
get 503, and a client that gives up on a costly request leaves the server
idle soon after. The limits are set small here so that each test takes a
second or two.
"""

import http.client
import json
import os
import random
import select
import socket
import string
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from app.models.api import MAX_TEXT_LENGTH
from tests.matching.test_bounded_work import IN_A_SENTENCE, MULTIPLE, article, random_letters
from tests.matching.test_budget import made_up_names
from tests.servers import HOST, Server, serve
from tests.servers import http as send

pytestmark = pytest.mark.slow  # a real server process

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1
MAX_HEADER_BYTES = 8192
LIMIT_CONCURRENCY = 8
# How long after its timeout a connection may still be open on a busy machine.
SLACK = 2.0
MiB = 1 << 20
ROUNDS = 3  # of the worst texts against articles


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    limits = {
        "HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "BODY_TIMEOUT": str(BODY_TIMEOUT),
        "KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_TIMEOUT),
        "MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "LIMIT_CONCURRENCY": str(LIMIT_CONCURRENCY),
    }
    with serve(tmp_path_factory.mktemp("limits"), **limits) as running:
        yield running


def connect(server: Server) -> socket.socket:
    port = int(server.origin.rsplit(":", 1)[1])
    connection = socket.create_connection((HOST, port))
    connection.settimeout(HEADER_TIMEOUT + BODY_TIMEOUT + SLACK * 2)
    return connection


def answer(connection: socket.socket) -> bytes:
    """All the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def seconds_to_close(connection: socket.socket) -> tuple[float, bytes]:
    started = time.monotonic()
    received = answer(connection)
    return time.monotonic() - started, received


def test_half_sent_headers_are_closed_after_the_timeout(server: Server) -> None:
    silent = connect(server)
    request_line = connect(server)
    request_line.sendall(b"GET /healthz HT")
    trickle = connect(server)
    started = time.monotonic()
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1234567":
        if select.select([trickle], [], [], 0.1)[0]:
            break  # the server answered: it is closing the connection
        trickle.send(bytes([byte]))
    for connection in (silent, request_line, trickle):
        with connection:
            received = answer(connection)
            assert received.startswith(b"HTTP/1.1 408 "), received
            assert b"did not arrive within 1 s" in received
    assert time.monotonic() - started < HEADER_TIMEOUT + SLACK


def test_a_half_sent_body_is_closed_after_the_timeout(server: Server) -> None:
    with connect(server) as connection:
        connection.sendall(
            b"POST /resolve HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"mentions": ['
        )
        waited, _ = seconds_to_close(connection)
    assert BODY_TIMEOUT / 2 < waited < BODY_TIMEOUT + SLACK


def test_oversized_headers_are_refused(server: Server) -> None:
    with connect(server) as connection:
        big = b"X-Big: " + b"a" * MAX_HEADER_BYTES + b"\r\n"
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
        received = answer(connection)
    assert received.startswith(b"HTTP/1.1 431 ")
    assert json.loads(received.split(b"\r\n\r\n", 1)[1]) == {
        "detail": f"the request headers are larger than {MAX_HEADER_BYTES} bytes"
    }


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /resolve?q=T\xffTP HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /resolve HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["a byte no target may hold", "a length and chunks"],
)
def test_a_request_that_is_not_http_is_a_json_400(server: Server, request_bytes: bytes) -> None:
    """uvicorn answered these in text/plain, 'Invalid HTTP request received.'"""
    with connect(server) as connection:
        connection.sendall(request_bytes)
        received = answer(connection)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), received
    assert b"content-type: application/json" in head
    assert json.loads(body) == {"detail": "the request is not valid HTTP"}


@pytest.mark.parametrize(
    "upgrade",
    [
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
        b"",
    ],
    ids=["a websocket handshake", "an upgrade alone"],
)
def test_a_websocket_upgrade_is_answered_as_http(server: Server, upgrade: bytes) -> None:
    """No route is a WebSocket: uvicorn answered 403 or 400 with no body, itself."""
    with connect(server) as connection:
        connection.sendall(
            b"GET /resolve?q=TTP HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\n"
            b"Upgrade: websocket\r\n" + upgrade + b"\r\n"
        )
        head, _, body = answer(connection).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), head
    assert json.loads(body)["candidates"][0]["id"] == "ttp"


def test_a_body_whose_chunks_break_off_closes_the_connection_unanswered(server: Server) -> None:
    """Its request was under way, waiting for the body: no status of its own (a
    text/plain 400 was written beside it, before)."""
    with connect(server) as connection:
        connection.sendall(
            b"POST /resolve HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"te\r\nZZ'
        )
        assert answer(connection) == b""


def test_endless_headers_are_cut_off_without_memory_growth(server: Server) -> None:
    before = resident_bytes(server.pid)
    chunk = b"X-More: " + b"a" * 65_000 + b"\r\n"
    connections = [connect(server) for _ in range(5)]  # 40 MiB offered in all
    for connection in connections:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(8 * MiB // len(chunk)):
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection, as it should
    grown = resident_bytes(server.pid) - before  # all five still open on this side
    for connection in connections:
        with connection:
            try:
                received = answer(connection)
            except ConnectionResetError:
                continue  # reset before its answer could be read: refused all the same
            assert received.startswith(b"HTTP/1.1 431 "), received[:100]
    assert grown < 16 * MiB, f"{grown / MiB:.0f} MiB more"


def test_idle_keep_alive_connections_are_closed(server: Server) -> None:
    port = int(server.origin.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection(HOST, port, timeout=KEEP_ALIVE_TIMEOUT + SLACK * 2)
    with closing(connection):
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b'{"status":"ok"}')
        assert connection.sock is not None  # kept alive
        waited, received = seconds_to_close(connection.sock)
    assert received == b""
    assert KEEP_ALIVE_TIMEOUT / 2 < waited < KEEP_ALIVE_TIMEOUT + SLACK


def test_past_the_concurrency_limit_requests_get_503(server: Server) -> None:
    held = [connect(server) for _ in range(LIMIT_CONCURRENCY)]
    try:
        time.sleep(0.1)  # the server has accepted them all
        status, answer = send("GET", f"{server.origin}/healthz")
        assert (status, json.loads(answer)) == (
            503,
            {"detail": "the server is at its concurrency limit; try again"},
        )
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.1)
    assert send("GET", f"{server.origin}/healthz")[0] == 200
    # Any operation may meet the limit: the schema lists 503 for each (not for /healthz before).
    paths = json.loads(send("GET", f"{server.origin}/openapi.json")[1])["paths"]
    unlisted = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "503" not in operation["responses"]
    ]
    assert unlisted == []


def test_a_client_that_gives_up_leaves_the_server_idle_soon_after(server: Server) -> None:
    # Twenty texts of 80,000 characters of capitalised made-up names: a minute
    # of matching on one core, past the time budget of 10 s too.
    documents = [{"text": made_up_names(80_000, seed=seed)} for seed in range(20)]
    body = json.dumps({"documents": documents}).encode()
    # What the server's own threads cost meanwhile (refreshes, the write check),
    # more while other tests share the cores.
    resting = cpu_seconds_over(server.pid, 2.0)
    with connect(server) as connection:
        connection.sendall(
            b"POST /annotate/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        busy = cpu_seconds_over(server.pid, 1.0)
    idle_from = time.monotonic() + 1.0  # it stops within one run of a text, give or take
    time.sleep(idle_from - time.monotonic())
    idle = cpu_seconds_over(server.pid, 2.0)
    # The machine may be shared: "busy" is what the request got of a core, not a whole one.
    assert busy > 0.1, f"the request was not being worked on ({busy:.2f} CPU seconds in 1 s)"
    assert idle < resting + 0.1, (
        f"{idle:.2f} CPU seconds in the 2 s after the client gave up ({resting:.2f} at rest)"
    )
    assert "the client disconnected; its work was stopped" in server.access_log()


def resident_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
    return int(line.split()[1]) * 1024


def cpu_seconds_over(pid: int, seconds: float) -> float:
    """CPU time (user and system, every thread) that the process used in the next ``seconds``."""
    before = _cpu_seconds(pid)
    time.sleep(seconds)
    return _cpu_seconds(pid) - before


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return (user + system) / os.sysconf("SC_CLK_TCK")


def test_the_worst_texts_cost_a_small_multiple_of_an_article_over_http(server: Server) -> None:
    # tests/matching/test_bounded_work.py times the engine alone; here the same
    # kinds of text go through the server, one at a time and as a batch,
    # against articles of the same length (the seed articles repeated), best
    # of three rounds taking turns. Each round's random texts are new, so that
    # nothing the server remembers from one round saves work in the next.
    rng = random.Random(20261202)
    rest = MAX_TEXT_LENGTH - len(IN_A_SENTENCE)
    worst = {
        "one repeated word": lambda: IN_A_SENTENCE + ("Pakistan" * rest)[:rest],
        "one made-up word": lambda: IN_A_SENTENCE + "Q" + random_lowercase(rest - 1, rng),
        "random letters": lambda: IN_A_SENTENCE + "P" + random_letters(rest - 1, rng),
        "random letters and spaces": lambda: random_letters(MAX_TEXT_LENGTH, rng, spaces="  "),
    }
    normal = article(MAX_TEXT_LENGTH)
    requests: dict[str, Callable[[], Any]] = {"article": lambda: {"text": normal}}
    requests.update({name: lambda text=text: {"text": text()} for name, text in worst.items()})
    batches: dict[str, Callable[[], Any]] = {
        "articles": lambda: {"documents": [{"text": normal}] * len(worst)},
        "worst texts": lambda: {"documents": [{"text": text()} for text in worst.values()]},
    }
    best = dict.fromkeys([*requests, *batches], float("inf"))
    for _ in range(ROUNDS):
        for path, bodies in (("/annotate", requests), ("/annotate/batch", batches)):
            for name, body in bodies.items():
                payload = body()
                started = time.perf_counter()
                status, answered = send("POST", f"{server.origin}{path}", payload)
                best[name] = min(best[name], time.perf_counter() - started)
                assert status in (200, 503), (name, status, answered[:200])
    # Alone, random letters and spaces cost 3 to 6 times an article that the
    # server has seen before (its names remembered): within the batch, whose
    # articles are remembered just as well, they must not pass the multiple.
    for name in worst.keys() - {"random letters and spaces"}:
        assert best[name] <= MULTIPLE * best["article"], (name, best)
    assert best["worst texts"] <= MULTIPLE * best["articles"], best


def random_lowercase(length: int, rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=length))
