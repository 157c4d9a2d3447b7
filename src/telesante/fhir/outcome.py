from typing import Any

from fastapi.responses import JSONResponse

FHIR_JSON = "application/fhir+json"

_SEVERITY_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    422: "invalid",
}


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def outcome(status: int, code: str, detail: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": _SEVERITY_CODE.get(status, "processing" if status < 500 else "exception"),
                "details": {"text": detail},
                "diagnostics": code,
            }
        ],
    }


def outcome_response(status: int, code: str, detail: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return FhirResponse(outcome(status, code, detail), status_code=status, headers=headers)
