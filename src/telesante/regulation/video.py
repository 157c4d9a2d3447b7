"""Video with the caller: the regulator sends a one-time link, the caller's phone shows its camera.

The regulator of a file starts a session: a link ``/appel-video#<token>`` (in the fragment, so
the token reaches no server log nor referrer) goes to the caller through the outbox; only its
SHA-256 is kept, with the token itself sealed until the e-mail is sent. The caller's page spends
the link (one guarded UPDATE, within 30 minutes) for a join token of the session's call: the
téléconsultation's call layer, room ``reg-video:<session id>``, role caller, no account. The
regulator joins with their account and captures still images; the session's times and the
images (re-encoded, encrypted) are filed in the DRM.
"""

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

import aiosmtplib
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import JSON, ForeignKey, Select, String, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, defer, mapped_column

from telesante.audit.service import record
from telesante.db import Base, IdMixin, TimestampMixin, after_commit, utcnow
from telesante.documents.images import ImageRefused, reencode
from telesante.documents.sniff import JPEG, PNG, Kind, sniff
from telesante.errors import Conflict, Invalid, NotFound, Unauthorized
from telesante.jobs.queue import job_handler, schedule
from telesante.kit.encrypted import EncryptedBytes, EncryptedText
from telesante.kit.tokens import random_token, token_hash
from telesante.realtime.bus import Bus
from telesante.regulation.files import require_open, require_regulator
from telesante.regulation.models import RegulationFile
from telesante.regulation.staff import Member
from telesante.settings import get_settings
from telesante.teleconsultation.call.participants import professional_name
from telesante.teleconsultation.call.signaling import channel
from telesante.teleconsultation.call.tokens import JOIN_TTL, REJOIN_TTL, Role, issue_join_token

LINK_TTL = timedelta(minutes=30)
CALLER_TTL = REJOIN_TTL  # from the link to the socket: camera permission may take the caller a while
LINK_JOB = "regulation.video_link"
MAX_CAPTURE = 5 * 1024 * 1024
CALLER = "Appelant"
Channel = Literal["email", "sms"]


class RegulationVideoSession(IdMixin, TimestampMixin, Base):
    """A one-time link sent to the caller, and the video call it opens."""

    __tablename__ = "regulation_video_sessions"

    file_id: Mapped[str] = mapped_column(ForeignKey("regulation_files.id"), index=True)
    started_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(5))  # email, sms
    contact: Mapped[str] = mapped_column(EncryptedText)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_sealed: Mapped[str | None] = mapped_column(EncryptedText)  # until sent or spent, then forgotten
    link_expires_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    incidents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class RegulationCapture(IdMixin, TimestampMixin, Base):
    """A still image of the caller's camera, taken by the regulator during a session."""

    __tablename__ = "regulation_captures"

    file_id: Mapped[str] = mapped_column(ForeignKey("regulation_files.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("regulation_video_sessions.id"), index=True)
    taken_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    image: Mapped[bytes] = mapped_column(EncryptedBytes)
    taken_at: Mapped[datetime]


def room_key(session_id: str) -> str:
    return f"reg-video:{session_id}"


@dataclass(frozen=True)
class RegulationVideoCall:
    """The session as a call's act (call/acts.py): live until ended, incidents kept on it."""

    session_id: str

    @property
    def key(self) -> str:
        return room_key(self.session_id)

    async def require_live(self, db: AsyncSession) -> None:
        await self._live(db)

    async def add_incident(self, db: AsyncSession, entry: dict[str, str]) -> None:
        session = await self._live(db)
        session.incidents = [*(session.incidents or []), entry]  # JSON columns track assignment

    async def end(self, db: AsyncSession, transcript: list[dict[str, str]], by: str) -> None:
        (await self._live(db)).ended_at = utcnow()

    async def _live(self, db: AsyncSession) -> RegulationVideoSession:
        session = await db.get(RegulationVideoSession, self.session_id, with_for_update=True)
        if session is None or session.ended_at is not None:
            raise Conflict("l'appel vidéo est terminé")
        return session


async def start(
    db: AsyncSession, bus: Bus, member: Member, file: RegulationFile, via: Channel, contact: str
) -> tuple[RegulationVideoSession, str]:
    """A new session and its link (returned once, to be read out too); an earlier one still open ends."""
    require_regulator(member, file)
    require_open(file)
    contact = _deliverable(via, contact)
    for earlier in await db.scalars(_live_sessions(file.id)):
        _close(db, bus, earlier)
    now = utcnow()
    token = random_token("tsv_")
    session = RegulationVideoSession(
        file_id=file.id,
        started_by_id=member.user_id,
        channel=via,
        contact=contact,
        link_hash=token_hash(token),
        link_sealed=token,
        link_expires_at=now + LINK_TTL,
        started_at=now,
        incidents=[],
    )
    db.add(session)
    await db.flush()
    await schedule(db, LINK_JOB, {"session_id": session.id}, dedupe_key=f"{LINK_JOB}:{session.id}")
    _audit(db, member, file, "create", f"appel vidéo : lien envoyé par {via}")
    return session, link_of(token)


def _deliverable(via: Channel, contact: str) -> str:
    """The address the link can go to now; 422 for a channel this deployment cannot send on."""
    if via == "sms":
        raise Invalid.field(
            "channel", "envoi par SMS non configuré : envoyez le lien par e-mail ou dictez-le"
        )
    if not get_settings().smtp_host:
        raise Invalid.field("channel", "envoi par e-mail non configuré (pas de serveur SMTP)")
    try:
        return validate_email(contact.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid.field("contact", "adresse e-mail invalide") from None


def link_of(token: str) -> str:
    return f"{get_settings().base_url}/appel-video#{token}"


def _live_sessions(file_id: str) -> Select[RegulationVideoSession]:
    return (
        select(RegulationVideoSession)
        .where(RegulationVideoSession.file_id == file_id, RegulationVideoSession.ended_at.is_(None))
        .order_by(RegulationVideoSession.started_at.desc())
    )


async def live_session(db: AsyncSession, file: RegulationFile) -> RegulationVideoSession | None:
    return await db.scalar(_live_sessions(file.id).limit(1))


async def _require_live(db: AsyncSession, file: RegulationFile) -> RegulationVideoSession:
    session = await live_session(db, file)
    if session is None:
        raise Conflict("aucun appel vidéo en cours : envoyez d'abord un lien à l'appelant")
    return session


async def caller_joins(db: AsyncSession, link: str) -> tuple[RegulationVideoSession, str]:
    """Spend the link (one guarded UPDATE: a second use, or a late one, is refused) for a join token."""
    now = utcnow()
    spent = await db.execute(
        update(RegulationVideoSession)
        .where(
            RegulationVideoSession.link_hash == token_hash(link),
            RegulationVideoSession.used_at.is_(None),
            RegulationVideoSession.ended_at.is_(None),
            RegulationVideoSession.link_expires_at > now,
        )
        .values(used_at=now, link_sealed=None)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise Unauthorized(
            "ce lien vidéo n'est plus valable : il a déjà servi, a expiré ou l'appel est terminé"
        )
    session = await db.scalar(
        select(RegulationVideoSession).where(RegulationVideoSession.link_hash == token_hash(link))
    )
    assert session is not None
    record(
        db,
        None,
        action="join",
        resource_type="RegulationFile",
        resource_id=session.file_id,
        purpose="regulation",
        reason=f"appelant, par le lien vidéo à usage unique (session {session.id})",
    )
    return session, await issue_join_token(db, room_key(session.id), None, Role.caller, CALLER, CALLER_TTL)


async def regulator_joins(
    db: AsyncSession, member: Member, file: RegulationFile
) -> tuple[RegulationVideoSession, str]:
    require_regulator(member, file)
    session = await _require_live(db, file)
    assert member.actor.professional_id is not None  # a member of a room is a professional
    name = f"{await professional_name(db, member.actor.professional_id)} (médecin régulateur)"
    token = await issue_join_token(
        db, room_key(session.id), member.actor.user, Role.professional, name, JOIN_TTL
    )
    return session, token


async def end(db: AsyncSession, bus: Bus, member: Member, file: RegulationFile) -> RegulationVideoSession:
    """The regulator ends the session; every leg of its call hears it and closes."""
    require_regulator(member, file)
    session = await _require_live(db, file)
    _close(db, bus, session)
    _audit(db, member, file, "update", "appel vidéo terminé")
    return session


def _close(db: AsyncSession, bus: Bus, session: RegulationVideoSession) -> None:
    session.ended_at = utcnow()
    after_commit(db, lambda: bus.publish(channel(room_key(session.id)), {"type": "ended"}))


async def capture(
    db: AsyncSession, member: Member, file: RegulationFile, data: bytes, declared: str | None
) -> RegulationCapture:
    """A still image of the live session, checked and re-encoded like a record's photo, encrypted."""
    require_regulator(member, file)
    session = await _require_live(db, file)
    kind = _image_kind(data, declared)
    try:
        image = await asyncio.to_thread(reencode, data, kind)
    except ImageRefused as refused:
        raise Invalid.field("image", str(refused)) from None
    taken = RegulationCapture(
        file_id=file.id,
        session_id=session.id,
        taken_by_id=member.user_id,
        content_type=kind.media_type,
        size=len(image),
        sha256=hashlib.sha256(image).hexdigest(),
        image=image,
        taken_at=utcnow(),
    )
    db.add(taken)
    await db.flush()
    _audit(db, member, file, "create", f"image capturée pendant l'appel vidéo ({taken.id})")
    return taken


def _image_kind(data: bytes, declared: str | None) -> Kind:
    """PNG or JPEG by the bytes themselves, and as declared: anything disguised is refused."""
    kind = sniff(data)
    said = (declared or "").split(";", 1)[0].strip().lower()
    if kind not in (PNG, JPEG) or said not in kind.aliases:
        raise Invalid.field("image", "une image PNG ou JPEG est attendue, déclarée comme telle")
    return kind


async def filed(
    db: AsyncSession, file: RegulationFile
) -> tuple[list[RegulationVideoSession], list[RegulationCapture]]:
    """The file's sessions and captures, oldest first (images not loaded, so not decrypted)."""
    sessions = await db.scalars(
        select(RegulationVideoSession)
        .where(RegulationVideoSession.file_id == file.id)
        .order_by(RegulationVideoSession.started_at)
    )
    captures = await db.scalars(
        select(RegulationCapture)
        .options(defer(RegulationCapture.image, raiseload=True))
        .where(RegulationCapture.file_id == file.id)
        .order_by(RegulationCapture.taken_at)
    )
    return list(sessions), list(captures)


async def capture_of(
    db: AsyncSession, member: Member, file: RegulationFile, capture_id: str
) -> RegulationCapture:
    taken = await db.scalar(
        select(RegulationCapture).where(
            RegulationCapture.id == capture_id, RegulationCapture.file_id == file.id
        )
    )
    if taken is None:
        raise NotFound("image introuvable")
    _audit(db, member, file, "read", f"image de l'appel vidéo ({taken.id})")
    return taken


def audit_read(db: AsyncSession, member: Member, file: RegulationFile) -> None:
    _audit(db, member, file, "read", "appels vidéo et images du dossier")


def _audit(db: AsyncSession, member: Member, file: RegulationFile, action: str, reason: str) -> None:
    record(
        db,
        member.actor,
        action=action,
        resource_type="RegulationFile",
        resource_id=file.id,
        patient_id=file.patient_id,
        purpose="regulation",
        reason=reason,
    )


@job_handler(LINK_JOB)
async def send_link(db: AsyncSession, payload: dict[str, Any], _bus: Bus) -> None:
    """E-mail the link; nothing for a link already spent, expired or whose session ended."""
    settings = get_settings()
    session = await db.get(RegulationVideoSession, payload["session_id"])
    if session is None or session.link_sealed is None or session.ended_at or not settings.smtp_host:
        return
    if session.link_expires_at <= utcnow():
        return
    message = EmailMessage()
    message["From"], message["To"] = settings.smtp_sender, session.contact
    message["Subject"] = "SAMU – Centre 15 : montrez-nous la situation en vidéo"
    message.set_content(
        "Bonjour,\n\n"
        "Le médecin régulateur du SAMU avec qui vous êtes en contact vous demande de lui montrer "
        "la situation avec la caméra de votre téléphone. Ouvrez ce lien :\n\n"
        f"{link_of(session.link_sealed)}\n\n"
        "Il ne sert qu'une fois et reste valable 30 minutes. Aucun compte n'est nécessaire.\n"
        "Si vous n'êtes pas en contact avec le SAMU, ignorez ce message.\n"
    )
    await aiosmtplib.send(message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=20)
    session.link_sealed, session.sent_at = None, utcnow()
