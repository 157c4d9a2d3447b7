"""Pro Santé Connect (OpenID Connect) settings, read from TELESANTE_OIDC_* variables.

Kept apart from `telesante.settings` so the login option can be switched on by setting
four variables; with no issuer, client id or secret the option is off (button hidden,
routes answer 404).
"""

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from telesante.settings import Settings

CALLBACK_PATH = "/auth/psc/callback"
TokenAuthMethod = Literal["client_secret_basic", "client_secret_post"]


class OidcSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELESANTE_OIDC_", extra="ignore")

    # e.g. https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet (the PSC sandbox, unverified)
    issuer: str | None = None
    # Defaults to issuer + /.well-known/openid-configuration.
    discovery_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    # Must be registered with the provider; defaults to TELESANTE_PUBLIC_URL + /auth/psc/callback.
    redirect_url: str | None = None
    # PSC's documented scopes and assurance level (unverified against the ANS text).
    scope: str = "openid scope_all"
    acr_values: str | None = "eidas1"
    # When set, an ID token whose `acr` differs is refused: the session is marked as
    # two-factor only because PSC vouches for a CPS or e-CPS authentication.
    required_acr: str | None = "eidas1"
    # How the client authenticates to the token endpoint (a method name, not a secret).
    token_endpoint_auth_method: TokenAuthMethod = "client_secret_basic"  # noqa: S105
    challenge_minutes: int = 10
    clock_leeway_seconds: int = 60
    http_timeout_seconds: float = 10.0
    metadata_cache_seconds: int = 3600

    @property
    def configured(self) -> bool:
        return bool(self.issuer and self.client_id and self.client_secret)

    @property
    def metadata_url(self) -> str:
        return self.discovery_url or f"{(self.issuer or '').rstrip('/')}/.well-known/openid-configuration"

    def callback_url(self, settings: Settings) -> str:
        return self.redirect_url or settings.base_url.rstrip("/") + CALLBACK_PATH


@lru_cache
def get_oidc_settings() -> OidcSettings:
    return OidcSettings()
