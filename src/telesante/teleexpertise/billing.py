"""Billing lines of a téléexpertise answer (billing.md § Téléexpertise), with every rule and why.

- TE2, the requis (médecin, sage-femme): 20 €, 23 € from 1 Jan 2026 (billing/tariffs.py); at most
  4 per year for a same patient. Whether the cap counts per requis is unverified: it is counted
  per patient, every requis together, the stricter reading.
- RQD, the requérant: 10 €; triggered by the requis' TE2 (the requis names the requérant,
  Medicompare), so once per request and only when a TE2 is produced. Its yearly cap is
  unverified: the table below holds a placeholder marked so.

Over a cap the line is not produced; the reason is kept on the answer and returned by the API.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.billing.models import BillingLine
from telesante.billing.tariffs import tariff
from telesante.directory.models import Professional
from telesante.teleexpertise.models import ExpertAnswer, ExpertRequest

PARIS = ZoneInfo("Europe/Paris")
ACT_TYPE = "teleexpertise"
ANSWER_WITHIN_DAYS = 7  # acts.md "Delay", convention 2024
RQD_PROFESSIONS = frozenset(
    {"physician", "midwife", "nurse", "physiotherapist"}
)  # billing.md, as in the directory


@dataclass(frozen=True)
class YearlyCap:
    code: str
    per_patient: int
    source: str
    verified: bool


CAPS = {
    "TE2": YearlyCap("TE2", 4, "billing.md: ≤4 per year for a same patient (Vidal; Omniprat)", verified=True),
    "RQD": YearlyCap("RQD", 4, "billing.md: annual cap unverified; placeholder = TE2's", verified=False),
}


def _rule(name: str, ok: bool, why: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "why": why}


async def _billed_this_year(db: AsyncSession, code: str, patient_id: str, on: date) -> int:
    start = datetime(on.year, 1, 1, tzinfo=PARIS)
    end = datetime(on.year + 1, 1, 1, tzinfo=PARIS)
    count = await db.scalar(
        select(func.count(BillingLine.id)).where(
            BillingLine.act_type == ACT_TYPE,
            BillingLine.code == code,
            BillingLine.patient_id == patient_id,
            BillingLine.created_at >= start,
            BillingLine.created_at < end,
        )
    )
    return int(count or 0)


async def _line(
    db: AsyncSession,
    code: str,
    act_id: str,
    professional_id: str,
    request: ExpertRequest,
    on: date,
    rules: list[dict[str, Any]],
) -> dict[str, Any]:
    cap = CAPS[code]
    used = await _billed_this_year(db, code, request.patient_id, on)
    rules.append(
        _rule(
            "yearly_cap",
            used < cap.per_patient,
            f"{used} {code} déjà facturé(s) en {on.year} pour ce patient, plafond {cap.per_patient}"
            + ("" if cap.verified else " (plafond non vérifié)"),
        )
    )
    price = tariff(code, on)
    rules.append(_rule("tariff_verified", price.verified and cap.verified, price.source))
    failed = [r for r in rules if not r["ok"] and r["name"] != "tariff_verified"]
    result = {"code": code, "produced": not failed, "amount_cents": price.amount_cents, "rules": rules}
    if failed:
        result["reason"] = "ligne non produite : " + "; ".join(r["why"] for r in failed)
        return result
    db.add(
        BillingLine(
            act_type=ACT_TYPE,
            act_id=act_id,
            professional_id=professional_id,
            patient_id=request.patient_id,
            code=code,
            amount_cents=price.amount_cents,
            reimbursable=True,
            rules=rules,
        )
    )
    await db.flush()
    return result


async def bill_answer(db: AsyncSession, request: ExpertRequest, answer: ExpertAnswer) -> list[dict[str, Any]]:
    """TE2 for the expert, then RQD for the requérant if the TE2 was produced (once per request)."""
    on = answer.signed_at.astimezone(PARIS).date()
    expert = await db.get(Professional, answer.professional_id)
    delay_days = (answer.signed_at - request.created_at).days
    te2_rules = [
        _rule(
            "requis_medical",
            expert is not None and expert.profession in ("physician", "midwife"),
            "médecin ou sage-femme",
        ),
        _rule(
            "answered_in_time",
            delay_days < ANSWER_WITHIN_DAYS,
            f"réponse en {delay_days} jour(s), au plus {ANSWER_WITHIN_DAYS}",
        ),
    ]
    te2 = await _line(db, "TE2", answer.id, answer.professional_id, request, on, te2_rules)
    results = [te2]
    already = await db.scalar(
        select(BillingLine.id).where(BillingLine.act_id == request.id, BillingLine.code == "RQD")
    )
    if te2["produced"] and already is None:
        requester = await db.get(Professional, request.requester_id)
        rqd_rules = [
            _rule(
                "requerant_eligible",
                requester is not None and requester.profession in RQD_PROFESSIONS,
                "profession listée pour RQD",
            ),
        ]
        results.append(await _line(db, "RQD", request.id, request.requester_id, request, on, rqd_rules))
    return results
