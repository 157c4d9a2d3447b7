"""Notify a user: an in-app message always, pushed live after commit; an e-mail
through the outbox (a durable job) when SMTP is configured."""

from email.message import EmailMessage
from typing import Any

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.models import User
from telesante.db import after_commit, utcnow
from telesante.jobs.queue import job_handler, schedule
from telesante.notifications.models import Notification
from telesante.realtime.bus import Bus, user_channel
from telesante.settings import get_settings

EMAIL_JOB = "notifications.email"
TIMER_JOB = "notifications.timer"


async def notify(
    db: AsyncSession,
    bus: Bus | None,
    user_id: str,
    title: str,
    body: str,
    *,
    link: str | None = None,
    email: bool = True,
) -> Notification:
    settings = get_settings()
    notification = Notification(user_id=user_id, title=title, body=body, link=link, email_status="none")
    if email and settings.smtp_host:
        notification.email_status = "pending"
    db.add(notification)
    await db.flush()
    if notification.email_status == "pending":
        await schedule(
            db, EMAIL_JOB, {"notification_id": notification.id}, dedupe_key=f"email:{notification.id}"
        )
    if bus is not None:
        message = {"type": "notification", "id": notification.id, "title": title, "link": link}
        after_commit(db, lambda: bus.publish(user_channel(user_id), message))
    return notification


async def inbox(db: AsyncSession, user_id: str, limit: int = 50) -> list[Notification]:
    rows = await db.scalars(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc())
        .limit(limit)
    )
    return list(rows)


async def mark_read(db: AsyncSession, user_id: str, notification_id: str) -> bool:
    notification = await db.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return False
    notification.read_at = notification.read_at or utcnow()
    return True


@job_handler(EMAIL_JOB)
async def send_email(db: AsyncSession, payload: dict[str, Any], _bus: Bus) -> None:
    """Sends the e-mail of one notification. Health details stay in the app: the
    e-mail says there is something to read, with the title only."""
    settings = get_settings()
    notification = await db.get(Notification, payload["notification_id"])
    if notification is None or notification.email_status != "pending":
        return
    user = await db.get(User, notification.user_id)
    if user is None or not settings.smtp_host:
        notification.email_status = "failed"
        return
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = user.email
    message["Subject"] = f"Telesante : {notification.title}"
    message.set_content(
        "Bonjour,\n\nVous avez un nouveau message sur Telesante :\n"
        f"« {notification.title} »\n\nConnectez-vous pour le lire : {settings.base_url}/\n"
    )
    await aiosmtplib.send(message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=20)
    notification.email_status = "sent"


@job_handler(TIMER_JOB)
async def fire_timer(db: AsyncSession, payload: dict[str, Any], bus: Bus) -> None:
    """A reminder timer: when due, it becomes a notification for its user."""
    await notify(
        db, bus, payload["user_id"], payload["title"], payload.get("body", ""), link=payload.get("link")
    )
