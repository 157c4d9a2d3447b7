"""Every read and write of patient data leaves an audit event in the same transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from telesante.audit.models import AuditEvent
from telesante.auth.actor import Actor
from telesante.db import keep_even_on_rollback


def _event(
    db: AsyncSession,
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None,
    patient_id: str | None,
    outcome: str,
    purpose: str,
    reason: str | None = None,
) -> AuditEvent:
    return AuditEvent(
        actor_user_id=actor.user.id if actor else None,
        actor_role=actor.role if actor else "anonymous",
        patient_id=patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        purpose=purpose,
        request_id=db.info.get("request_id"),
        reason=reason,
    )


def record(
    db: AsyncSession,
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    patient_id: str | None = None,
    purpose: str = "care",
    reason: str | None = None,
) -> None:
    db.add(
        _event(
            db,
            actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            patient_id=patient_id,
            outcome="success",
            purpose=purpose,
            reason=reason,
        )
    )


def record_denied(
    db: AsyncSession,
    actor: Actor | None,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None,
    patient_id: str | None,
    purpose: str,
) -> None:
    """A refused access is kept even though the request itself fails and rolls back."""
    event = _event(
        db,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        outcome="denied",
        purpose=purpose,
    )
    keep_even_on_rollback(db, event)
