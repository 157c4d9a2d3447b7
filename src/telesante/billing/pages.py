"""The professional's billing page: the month's lines and why, the téléconsultation share, and
the declaration of the month's in-person acts."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.billing import activity, months
from telesante.billing.models import BillingLine
from telesante.deps import DbSession
from telesante.errors import AppError
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
RULE_LABELS = {
    "video": "Vidéo",
    "parcours": "Parcours de soins",
    "known_patient": "Patient connu (12 mois)",
    "tariff_verified": "Tarif",
}


def euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d} €"


def rule_view(rule: dict[str, Any]) -> dict[str, Any]:
    name, ok = rule.get("name", ""), bool(rule.get("ok"))
    if name == "tariff_verified":  # not a condition of reimbursement: whether the amount's source is official
        status, why = ("vérifié", "") if ok else ("à confirmer", "montant d'une source non officielle")
    else:
        status, why = ("respectée" if ok else "non respectée"), rule.get("why", "")
    return {"label": RULE_LABELS.get(name, name), "ok": ok, "status": status, "why": why}


def line_view(line: BillingLine) -> dict[str, Any]:
    return {
        "at": line.created_at,
        "code": line.code,
        "amount": euros(line.amount_cents),
        "reimbursable": line.reimbursable,
        "rules": [rule_view(r) for r in line.rules],
    }


@router.get("/facturation")
async def billing_page(request: Request, db: DbSession, actor: PageActor, month: str = "") -> HTMLResponse:
    return await _render(request, db, actor, _month_or_current(month))


@router.post("/facturation")
async def declare(
    request: Request,
    db: DbSession,
    actor: PageActor,
    month: Annotated[str, Form(max_length=7)],
    in_person_acts: Annotated[str, Form(max_length=12)],
) -> Response:
    try:
        count = int(in_person_acts.strip())
    except ValueError:
        count = -1  # refused below with the allowed range
    try:
        await activity.declare(db, actor, month, count)
    except AppError as exc:
        shown = _month_or_current(month)
        return await _render(request, db, actor, shown, error=_french(exc), status=exc.status)
    return RedirectResponse(f"/facturation?month={month}", status_code=303)


def _month_or_current(month: str) -> str:
    try:
        months.first_day(month)
    except AppError:
        return months.current_month()
    return month


async def _render(
    request: Request, db: AsyncSession, actor: Actor, month: str, error: str = "", status: int = 200
) -> HTMLResponse:
    professional_id = activity.professional_of(actor)
    report = await activity.share_report(db, professional_id, month)
    lines = await activity.month_lines(db, professional_id, month)
    reimbursable = sum(line.amount_cents for line in lines if line.reimbursable)
    return page(
        request,
        "billing.html",
        status,
        actor=actor,
        month=month,
        lines=[line_view(line) for line in lines],
        reimbursable_total=euros(reimbursable),
        other_total=euros(sum(line.amount_cents for line in lines) - reimbursable),
        report=report,
        declared=await activity.declared_in(db, professional_id, month),
        error=error,
    )


def _french(exc: AppError) -> str:
    """Field errors carry a French reason after the field's name."""
    labels = {"month": "Mois", "in_person_acts": "Actes en présentiel"}
    if exc.errors:
        return "; ".join(f"{labels.get(e['field'], e['field'])} : {e['reason']}" for e in exc.errors)
    return exc.detail
