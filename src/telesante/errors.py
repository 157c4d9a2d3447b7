"""The one error type, rendered as application/problem+json (RFC 9457).

The FHIR façade renders the same errors as OperationOutcome instead.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status = 400
    code = "bad_request"
    title = "Requête invalide"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(AppError):
    status, code, title = 404, "not_found", "Introuvable"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflit"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Authentification requise"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Accès refusé"


class Invalid(AppError):
    status, code, title = 422, "invalid", "Données invalides"

    @classmethod
    def field(cls, field: str, reason: str) -> "Invalid":
        return cls(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/fhir/", "/ws"))


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://telesante.fr/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v})
    return body


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Name each bad field by its path (e.g. `body.ins.matricule`) and say why."""
    out = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.append({"field": ".".join(loc), "reason": msg})
    return out


def _problem_response(status: int, body: dict[str, Any], headers: Any = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def render_app_error(request: Request, exc: AppError) -> Response:
    """Problem+json for the API, OperationOutcome for FHIR, an HTML page for the UI."""
    if request.url.path.startswith("/fhir/"):
        from telesante.fhir.outcome import outcome_response

        return outcome_response(exc.status, exc.code, exc.detail)
    if is_page(request):
        from telesante.web.render import page

        return page(request, "error.html", exc.status, title=exc.title, detail=exc.detail)
    body = problem(exc.status, exc.code, exc.title, exc.detail, errors=exc.errors)
    return _problem_response(exc.status, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, render_app_error)  # type: ignore[arg-type]

    @app.exception_handler(DataError)
    async def bad_value(request: Request, _: DataError) -> Response:
        # A value the database cannot store (a NUL character, an out-of-range number): the client's input.
        return await render_app_error(
            request, Invalid("valeur refusée par la base : caractère nul ou hors limites")
        )

    @app.exception_handler(IntegrityError)
    async def integrity(request: Request, _: IntegrityError) -> Response:
        # Two requests racing to create the same unique thing: the loser gets a clear 409.
        return await render_app_error(request, Conflict("cette donnée existe déjà (requête concurrente)"))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        if request.url.path.startswith("/fhir/"):
            from telesante.fhir.outcome import outcome_response

            return outcome_response(422, "invalid", detail)
        body = problem(422, "invalid", "Données invalides", detail, errors=errors)
        return _problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = str(exc.detail)
        if request.url.path.startswith("/fhir/"):
            from telesante.fhir.outcome import outcome_response

            return outcome_response(exc.status_code, "processing", detail)
        body = problem(exc.status_code, "http_error", detail, detail)
        return _problem_response(exc.status_code, body, getattr(exc, "headers", None))


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": desc, "content": {PROBLEM_JSON: {}}}
    for status, desc in {
        400: "Malformed request",
        401: "Not authenticated",
        403: "Authenticated but not allowed, or second factor missing",
        404: "Not found, or not visible to the caller",
        409: "Conflicts with existing data",
        422: "Invalid field: the body names the field and the reason",
    }.items()
}
