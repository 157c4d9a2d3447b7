from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from telesante.db import Base, IdMixin, TimestampMixin


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # patient, professional, admin
    professional_id: Mapped[str | None] = mapped_column(ForeignKey("professionals.id"), unique=True)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), unique=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    recovery_code_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Pro Santé Connect (OpenID Connect) subject, when the account logs in through it.
    oidc_subject: Mapped[str | None] = mapped_column(String(200), unique=True)

    @property
    def requires_mfa(self) -> bool:
        """Every role passes a second factor before seeing any patient data (PGSSI-S)."""
        return True


class WebSession(IdMixin, Base):
    """A server-side login session; the cookie holds a random token, stored hashed."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    mfa_passed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    mfa_method: Mapped[str | None] = mapped_column(String(20))  # totp, recovery, webauthn, email, oidc
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class ApiToken(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class WebAuthnCredential(IdMixin, TimestampMixin, Base):
    """A security key or platform passkey registered as a second factor."""

    __tablename__ = "webauthn_credentials"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(512), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    label: Mapped[str] = mapped_column(String(120))
    last_used_at: Mapped[datetime | None]


class LoginChallenge(IdMixin, TimestampMixin, Base):
    """A short-lived secret of a login step: an e-mailed code, a WebAuthn challenge, OIDC state."""

    __tablename__ = "login_challenges"

    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))  # email_code, webauthn_register, webauthn_login, oidc
    secret_hash: Mapped[str] = mapped_column(String(200), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
