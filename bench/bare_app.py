"""The reference: a bare Starlette app answering each benchmarked path with a fixed body of the
same size and content type as the mock's answer (read from the JSON file named by
``CHATMOCK_BENCH_BODIES``: ``[{"method", "path", "status", "content_type", "body"}]``).

Run by ``bench/run.py`` under uvicorn in its own process, exactly like ``chatmock serve``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODIES_ENV = "CHATMOCK_BENCH_BODIES"


def _endpoint(status: int, content_type: str, body: bytes) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        await request.body()  # read what the client sent, as the mock does
        return Response(body, status_code=status, headers={"content-type": content_type})

    return answer


def build(specs: list[dict[str, Any]]) -> Starlette:
    routes = [
        Route(
            spec["path"].split("?", 1)[0],
            _endpoint(int(spec["status"]), str(spec["content_type"]), str(spec["body"]).encode()),
            methods=[spec["method"]],
        )
        for spec in specs
    ]
    return Starlette(routes=routes)


def _from_env() -> Starlette:
    path = os.environ.get(BODIES_ENV)
    return build(json.loads(Path(path).read_text(encoding="utf-8")) if path else [])


app = _from_env()


def main(argv: list[str]) -> None:
    """``python -m bench.bare_app PORT``: serve as ``chatmock serve`` does (its event loop choice:
    uvloop when installed)."""
    import uvicorn

    from mockserver.serve import run_loop

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(argv[0]), log_level="warning", access_log=False, lifespan="off"))
    run_loop(server.serve())


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
