from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from telesante.migrations import current_of, head_revision
from telesante.runtime import Runtime

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable or not migrated"}})
async def readyz(request: Request) -> Response:
    """The database answers and its schema is at the latest migration."""
    runtime: Runtime = request.app.state.runtime
    body: dict[str, Any] = {"status": "ok"}
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            revision = await conn.run_sync(current_of)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    head = head_revision()
    if revision != head:
        body = {"status": "unavailable", "reason": f"schema at {revision}, expected {head}"}
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
