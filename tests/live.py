"""The real app under uvicorn on a loopback port, in a daemon thread (browser and fuzz tests)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from responders.delivery import process as delivery
from responders.settings import Settings

__all__ = ["ServerThread", "bound_socket", "serving"]


class ServerThread:
    """uvicorn (and, given settings, the outbox worker) on one event loop in a thread."""

    def __init__(self, app: FastAPI, sock: socket.socket, worker: Settings | None = None) -> None:
        self._socket = sock
        self._worker = worker
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="test-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        worker = asyncio.create_task(delivery.work(self._worker)) if self._worker else None
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            if worker:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


def bound_socket() -> tuple[socket.socket, str]:
    sock = socket.create_server(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def serving(app: FastAPI, sock: socket.socket, worker: Settings | None = None) -> Iterator[None]:
    server = ServerThread(app, sock, worker)
    server.start()
    try:
        yield
    finally:
        server.stop()
