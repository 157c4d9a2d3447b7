from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from telesante.consent.service import ACT_LABELS
from telesante.directory.professions import ORGANISATION_LABELS, PROFESSION_LABELS
from telesante.patients.schemas import IDENTITY_STATUS_LABELS

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals.update(
    profession_labels={k.value: v for k, v in PROFESSION_LABELS.items()},
    organisation_labels={k.value: v for k, v in ORGANISATION_LABELS.items()},
    identity_labels=IDENTITY_STATUS_LABELS,
    act_labels=ACT_LABELS,
)
templates.env.filters["paris"] = lambda dt: _paris(dt)


def _paris(value: Any) -> str:
    """Stored in UTC, shown in Europe/Paris."""
    from zoneinfo import ZoneInfo

    return str(value.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M"))


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)
