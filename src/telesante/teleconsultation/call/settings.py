"""STUN/TURN configuration, read from TELESANTE_TURN_* environment variables."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class TurnSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELESANTE_TURN_", extra="ignore")

    # Comma-separated, e.g. "stun:turn.example.fr:3478,turn:turn.example.fr:3478?transport=udp,
    # turn:turn.example.fr:3478?transport=tcp,turns:turn.example.fr:5349?transport=tcp".
    urls: str = ""
    # coturn's static-auth-secret (REST API scheme); without it TURN URLs are not offered.
    secret: str | None = None
    ttl_seconds: int = 3600
    # Force every call through the relay (iceTransportPolicy "relay"): hides the
    # participants' addresses from each other, at the cost of relay bandwidth.
    relay_only: bool = False

    @property
    def url_list(self) -> list[str]:
        return [u.strip() for u in self.urls.split(",") if u.strip()]


@lru_cache
def get_turn_settings() -> TurnSettings:
    return TurnSettings()
