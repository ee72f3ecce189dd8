"""Run the HTTP server: one process, or workers forked from one loaded index.

``alias-service serve`` first checks that no server listens on its port, so
that a port taken is said at once, not once the index has loaded; the socket
itself is bound once the index is loaded, so no process forked meanwhile
(the build's child, the one that keeps the index) holds it. SIGTERM or
SIGINT ends the command as it ends one process: stopped, exit 143 or 130.

With ``--workers N`` a supervisor builds the application and loads the index
once, binds the socket, and forks N worker processes that each run
``uvicorn.Server`` on the shared socket. The index's pages are shared
copy-on-write, so a worker costs little memory beyond the first (uvicorn's
own multi-worker mode starts fresh interpreters that would each load the
table). After the fork each worker drops the database connections it
inherited, catches up with edits made since the load, and starts its own
refresh thread (threads do not survive a fork). A worker that dies is
replaced; SIGTERM or SIGINT stops them all; a worker whose supervisor was
killed outright stops itself.
"""

import contextlib
import gc
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from app import child_pipes
from app.live_index import LiveIndex
from app.main import create_app, preload
from app.matching.worker_pools import STOP_SIGNALS
from app.settings import Settings

log = logging.getLogger(__name__)

# A worker that dies sooner than this after its start is replaced only after
# this pause, so a worker that cannot start does not spin the supervisor.
RESPAWN_PAUSE = 1.0
STOP_TIMEOUT = 30.0
STARTUP_FAILED = 3  # the exit code uvicorn.run gives when the lifespan fails


def uvicorn_config(
    app: FastAPI, *, host: str, port: int, options: Mapping[str, Any]
) -> uvicorn.Config:
    """The one place where the server's uvicorn options are set."""
    return uvicorn.Config(app, host=host, port=port, log_level="info", **options)


def serve(
    *,
    settings: Settings,
    host: str,
    port: int,
    workers: int = 1,
    options: Mapping[str, Any] | None = None,
    live_index: LiveIndex | None = None,
) -> None:
    # ``alias-service serve`` has prepared the database, waiting for it to come
    # up, and may have begun to load the index.
    app = create_app(settings, database_prepared=True, live_index=live_index)
    config = uvicorn_config(app, host=host, port=port, options=options or {})
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    preload(app)
    Supervisor(config, workers).run()


class Supervisor:
    """Forks ``workers`` processes serving ``config`` on one socket, and keeps them."""

    def __init__(self, config: uvicorn.Config, workers: int) -> None:
        self.config = config
        self.workers = workers
        self.children: dict[int, float] = {}  # pid -> when it started
        self.stopping = False
        self.stopped_by: signal.Signals | None = None

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop the workers and raise that
        signal again, as uvicorn does: the command ends as one process would."""
        previous = {signum: signal.signal(signum, self._stop) for signum in STOP_SIGNALS}
        try:
            self._serve(self.config.bind_socket())
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if self.stopped_by is not None:
            signal.raise_signal(self.stopped_by)

    def _serve(self, sock: socket.socket) -> None:
        # Objects that exist now are shared with every worker: keep the cyclic
        # collector from writing to their pages in each one.
        gc.collect()
        gc.freeze()
        for _ in range(self.workers):
            self._fork(sock)
        while not self.stopping:
            self._reap(sock)
            time.sleep(0.2)
        self._stop_children()
        sock.close()

    def _fork(self, sock: socket.socket) -> None:
        supervisor = os.getpid()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            # A supervisor killed outright leaves no worker on the port its
            # successor binds: stopped as the supervisor would stop it.
            child_pipes.stop_when_orphaned(supervisor, grace=STOP_TIMEOUT)
            code = 0
            try:
                server = uvicorn.Server(self.config)
                server.run(sockets=[sock])
                code = 0 if server.started else STARTUP_FAILED
            except SystemExit as exit_:  # uvicorn's own exit when the lifespan fails
                code = exit_.code if isinstance(exit_.code, int) else 1
            except BaseException:
                log.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = time.monotonic()
        log.info("worker %d started", pid)

    def _reap(self, sock: socket.socket) -> None:
        """Replace the workers that exited."""
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            log.warning("worker %d exited (%s); starting another", pid, _exit_reason(status))
            if time.monotonic() - started < RESPAWN_PAUSE:
                time.sleep(RESPAWN_PAUSE)
            self._fork(sock)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True
        self.stopped_by = signal.Signals(signum)

    def _stop_children(self) -> None:
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid:
                self.children.pop(pid, None)
            else:
                time.sleep(0.05)
        for pid in self.children:
            _signal(pid, signal.SIGKILL)


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"code {os.waitstatus_to_exitcode(status)}"
