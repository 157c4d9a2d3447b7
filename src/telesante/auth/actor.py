from dataclasses import dataclass

from telesante.auth.models import User


@dataclass(frozen=True)
class Actor:
    """The authenticated user behind a request, job or message."""

    user: User
    mfa_passed: bool
    via: str  # session, token, system
    csrf_token: str | None = None

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def professional_id(self) -> str | None:
        return self.user.professional_id

    @property
    def patient_id(self) -> str | None:
        return self.user.patient_id

    @property
    def fully_authenticated(self) -> bool:
        return self.mfa_passed or not self.user.requires_mfa
