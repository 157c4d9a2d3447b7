"""Erasure (GDPR art. 17) and the retention of the medical record that limits it.

The account (login e-mail, password, second factors, sessions, tokens, inbox) can always be
erased. The medical record cannot while its legal retention period runs (GDPR art. 17(3)(b)
and (c); CSP R1112-7, see ../shared/domain/security.md §5): the answer names the rule and
the date until which the record is kept. Services flush; the request edge commits, so an
erasure is applied entirely or not at all.
"""

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import ApiToken, LoginChallenge, User, WebAuthnCredential, WebSession
from telesante.auth.passwords import verify_password
from telesante.consent.models import Consent
from telesante.documents.models import Document
from telesante.errors import Forbidden
from telesante.gdpr.models import ErasureRequest
from telesante.jobs.models import Job
from telesante.notifications.models import Notification
from telesante.notifications.service import EMAIL_JOB, TIMER_JOB
from telesante.patients.access import access_patient
from telesante.patients.models import Patient
from telesante.timeline.models import TimelineEntry

PARIS = ZoneInfo("Europe/Paris")
RETENTION_YEARS = 20
MINOR_KEPT_UNTIL_AGE = 28
RETENTION_RULE = (
    "Code de la santé publique, art. R1112-7 : le dossier médical est conservé 20 ans à compter "
    "de la dernière activité, et au moins jusqu'au 28e anniversaire du patient"
)
# An address that can never be delivered (RFC 2606 reserves .invalid), unique through the id.
ERASED_EMAIL = "efface-{user_id}@erased.invalid"
# Not an argon2 hash: verify_password answers False for it, so no password opens the account.
ERASED_PASSWORD_HASH = "!erased"  # noqa: S105 - a marker, not a secret

Scope = Literal["all", "account", "record"]
ERASED_ITEMS = [
    "adresse e-mail de connexion (remplacée)",
    "mot de passe",
    "seconds facteurs (application TOTP, codes de secours, clés de sécurité)",
    "sessions de connexion et jetons d'API",
    "notifications et rappels programmés",
    "compte désactivé",
]


@dataclass(frozen=True)
class Retention:
    last_activity: date
    kept_until: date
    extended_to_28th_birthday: bool

    def running(self, today: date) -> bool:
        return today < self.kept_until


@dataclass(frozen=True)
class ErasureOutcome:
    request: ErasureRequest
    erased: list[str]
    retention: Retention | None


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 1 March, keeping a record longer, not shorter."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


async def last_activity(db: AsyncSession, patient: Patient) -> date:
    """The latest dated thing in the record: a timeline entry, a document, a consent, or its creation."""
    candidates = [patient.created_at]
    for column, owner in (
        (TimelineEntry.occurred_at, TimelineEntry.patient_id),
        (Document.created_at, Document.patient_id),
        (Consent.recorded_at, Consent.patient_id),
    ):
        latest = await db.scalar(select(func.max(column)).where(owner == patient.id))
        if latest is not None:
            candidates.append(latest)
    return max(candidates).astimezone(PARIS).date()


async def retention_of(db: AsyncSession, patient: Patient) -> Retention:
    last = await last_activity(db, patient)
    by_activity = add_years(last, RETENTION_YEARS)
    by_age = add_years(patient.birth_date, MINOR_KEPT_UNTIL_AGE)
    return Retention(last, max(by_activity, by_age), by_age > by_activity)


async def request_erasure(
    db: AsyncSession, actor: Actor, scope: Scope, password: str, now: datetime
) -> ErasureOutcome:
    # Re-authentication: an erasure cannot be undone, so a stolen session or token is not enough.
    if not await asyncio.to_thread(verify_password, actor.user.password_hash, password):
        raise Forbidden("mot de passe incorrect : l'effacement n'a pas été effectué")
    retention = None
    if actor.patient_id:
        patient = await access_patient(
            db, actor, actor.patient_id, purpose="gdpr", action="erasure", resource_type="ErasureRequest"
        )
        retention = await retention_of(db, patient)
    erased = await erase_account(db, actor.user) if scope in ("all", "account") else []
    status = _status(scope, retention)
    request = ErasureRequest(
        user_id=actor.user.id,
        patient_id=actor.patient_id,
        status=status,
        detail=_detail(scope, erased, retention, now.astimezone(PARIS).date()),
        completed_at=now,
    )
    db.add(request)
    await db.flush()
    return ErasureOutcome(request, erased, retention)


def _status(scope: Scope, retention: Retention | None) -> str:
    """done: everything asked was erased; partial: the account was, the record is kept; refused: nothing."""
    if retention is None or scope == "account":
        return "done"
    return "partial" if scope == "all" else "refused"


def _detail(scope: Scope, erased: list[str], retention: Retention | None, today: date) -> str:
    parts = []
    if erased:
        parts.append("Données de compte effacées : " + ", ".join(erased) + ".")
    if retention is not None and scope != "account":
        parts.append(_kept_sentence(retention, today))
    if not parts:
        parts.append("Aucune donnée de compte ni dossier médical à effacer.")
    return " ".join(parts)


def _kept_sentence(retention: Retention, today: date) -> str:
    until = retention.kept_until.strftime("%d/%m/%Y")
    why = (
        f"{RETENTION_YEARS} ans après la dernière activité du {retention.last_activity.strftime('%d/%m/%Y')}"
        + (", prolongés jusqu'au 28e anniversaire" if retention.extended_to_28th_birthday else "")
    )
    if retention.running(today):
        return (
            f"Le dossier médical n'est pas effacé : il est conservé jusqu'au {until} ({why}), "
            f"durée de conservation légale ({RETENTION_RULE}). Le RGPD (art. 17, § 3) écarte le droit "
            "à l'effacement pendant cette durée. Les coordonnées enregistrées dans le dossier en font "
            "partie ; vous pouvez en demander la rectification."
        )
    return (
        f"La durée de conservation légale du dossier médical a pris fin le {until} ({why}). Sa destruction "
        "relève du responsable du traitement, qui instruit votre demande enregistrée ici."
    )


async def erase_account(db: AsyncSession, user: User) -> list[str]:
    """Remove what only the account holds; the user row stays (audit events point to it), emptied."""
    user_id = user.id
    session_ids = select(WebSession.id).where(WebSession.user_id == user_id)
    await db.execute(delete(LoginChallenge).where(LoginChallenge.session_id.in_(session_ids)))
    for model in (WebSession, ApiToken, WebAuthnCredential):
        await db.execute(delete(model).where(model.user_id == user_id))
    await _delete_pending_jobs(db, user_id)
    await db.execute(delete(Notification).where(Notification.user_id == user_id))
    user.email = ERASED_EMAIL.format(user_id=user_id)
    user.password_hash = ERASED_PASSWORD_HASH
    user.totp_secret = None
    user.totp_enabled_at = None
    user.recovery_code_hashes = []
    user.oidc_subject = None
    user.is_active = False
    await db.flush()
    return list(ERASED_ITEMS)


async def _delete_pending_jobs(db: AsyncSession, user_id: str) -> None:
    """Reminders for this user, and e-mails about their notifications, must not fire after erasure."""
    notification_ids = set(await db.scalars(select(Notification.id).where(Notification.user_id == user_id)))
    jobs = await db.scalars(select(Job).where(Job.kind.in_([TIMER_JOB, EMAIL_JOB]), Job.status == "pending"))
    for job in jobs:
        # The payload is JSON; filtering here keeps one query for SQLite and PostgreSQL alike.
        if job.payload.get("user_id") == user_id or job.payload.get("notification_id") in notification_ids:
            await db.delete(job)


async def erasure_requests(db: AsyncSession, user: User) -> list[ErasureRequest]:
    rows = await db.scalars(
        select(ErasureRequest).where(ErasureRequest.user_id == user.id).order_by(ErasureRequest.created_at)
    )
    return list(rows)
