"""Calling an operator about an alert, through the notifications inbox (and e-mail, title only)."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import User
from telesante.monitoring.models import Alert, Program
from telesante.notifications.service import notify
from telesante.patients.models import Patient
from telesante.realtime.bus import Bus

SEVERITY_WORDS = {"info": "information", "warning": "alerte", "critical": "alerte critique"}


async def call_operator(
    db: AsyncSession, bus: Bus | None, program: Program, alert: Alert, level: int
) -> bool:
    """Notify operator number `level` of the team; False when the team has no one at that level."""
    if level >= len(program.operator_team):
        return False
    patient = await db.get(Patient, program.patient_id)
    name = patient.display_name if patient else "patient"
    escalated = " (sans prise en compte de l'équipe)" if level else ""
    for user_id in await db.scalars(
        select(User.id).where(User.professional_id == program.operator_team[level])
    ):
        await notify(
            db,
            bus,
            user_id,
            "Alerte de télésurveillance à traiter",  # the e-mail carries the title only: no health detail
            f"{name} : {alert.label} ({SEVERITY_WORDS.get(alert.severity, alert.severity)}){escalated}.",
            link=f"/monitoring/alerts/{alert.id}",
        )
    return True
