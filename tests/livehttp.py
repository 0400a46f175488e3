"""A test platform on a real HTTP server: uvicorn, as ``duban serve`` runs it, on a free port of 127.0.0.1,
in the test's own event loop (the platform's connections live there)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from duban.app import create_app
from duban.platform import Platform


@asynccontextmanager
async def serving(platform: Platform) -> AsyncIterator[str]:
    """Serve a started ``platform`` over HTTP while the block runs; yields the base URL."""
    config = uvicorn.Config(create_app(platform, manage_platform=False), host="127.0.0.1", port=0,
                            lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # readiness: the socket is bound and listening
            if task.done():
                task.result()  # it failed to start: say why
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
