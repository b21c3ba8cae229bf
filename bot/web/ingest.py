"""`POST /ingest/{entity}`: JSON Lines of one contract entity, validated and upserted.

Served by the same Starlette app (and port) as Slack's endpoint. The body is streamed to a
spooled temporary file while its size is checked, then imported in a worker thread with
the same validation as `csbot ingest`. Answers:
200 counts as JSON; 401 without the right bearer token (compared in constant time);
404 unknown entity; 413 body over CSBOT_INGEST_MAX_BYTES; 422 the line problems as JSON;
503 when no CSBOT_INGEST_TOKEN is configured (ingest disabled).
`?skip_invalid=true` commits the good lines and lists the rejected ones in the 200 answer.
"""

from __future__ import annotations

import hmac
import tempfile

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime
from storage.ingest import ENTITIES, ContractViolation, import_rows

SPOOL_IN_MEMORY_BYTES = 1_000_000
"""Bodies up to this size stay in memory; larger ones spill to a temporary file."""

PROBLEMS_RETURNED = 1_000
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def ingest_routes(runtime: Runtime) -> list[Route]:
    """The ingest route, bound to `runtime`'s settings and engine."""

    async def ingest(request: Request) -> Response:
        settings = runtime.settings
        if not settings.ingest_token:
            return _error(503, "ingest disabled: CSBOT_INGEST_TOKEN is not set")
        if not _authorized(request, settings.ingest_token):
            response = _error(401, "missing or wrong bearer token")
            response.headers["WWW-Authenticate"] = 'Bearer realm="csbot-ingest"'
            return response
        entity = request.path_params["entity"]
        if entity not in ENTITIES:
            return _error(404, f"unknown entity {entity!r}", entities=list(ENTITIES))
        limit = settings.ingest_max_bytes
        too_large = f"body larger than {limit:,} bytes (CSBOT_INGEST_MAX_BYTES)"
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _error(413, too_large)
        skip_invalid = request.query_params.get("skip_invalid", "").lower() in TRUE_WORDS
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES) as body:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return _error(413, too_large)
                body.write(chunk)
            body.seek(0)
            try:
                report = await run_in_threadpool(
                    import_rows,
                    runtime.engine,
                    entity,
                    body,
                    skip_invalid=skip_invalid,
                    source_name="body",
                )
            except ContractViolation as violation:
                return _error(
                    422,
                    f"{violation.problem_count} problems; nothing was imported",
                    problem_count=violation.problem_count,
                    problems=[p.as_dict() for p in violation.problems[:PROBLEMS_RETURNED]],
                )
        return JSONResponse(report.as_dict())

    return [Route("/ingest/{entity}", ingest, methods=["POST"])]
