"""One settings class, read from TELESANTE_* environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELESANTE_", extra="ignore")

    environment: str = "development"  # development | test | production
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    # Télésurveillance over MQTT: mqtt[s]://[user:password@]host[:port][/topic-root][?client_id=…];
    # unset, no MQTT consumer runs (monitoring/mqtt.py).
    mqtt_url: str | None = None
    # Régulation: the telephony connector's bearer secret (unset: the telephony endpoint refuses
    # every event), and Hub Santé over AMQP 0-9-1 (amqp[s]://user:password@host:port/vhost; unset,
    # no connector runs) with this centre's Hub client id (fr.health.samuXXX).
    telephony_token: str | None = None
    hub_url: str | None = None
    hub_client_id: str | None = None
    port: int = 8000
    host: str = "127.0.0.1"
    public_url: str | None = None
    secret_key: str = DEV_SECRET
    run_worker_in_serve: bool = True
    worker_poll_seconds: float = 0.5

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "Telesante <no-reply@telesante.localhost>"

    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    api_token_days: int = 90
    # Master keys for encryption at rest: "kid:base64key[,kid:base64key]", the first encrypting.
    master_key: str | None = None
    master_key_file: Path | None = None
    # Ed25519 key signing e-prescriptions: base64 of the raw 32 bytes (a key file in development).
    prescription_key: str | None = None
    # TLS termination by `serve` (a reverse proxy may do it instead).
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None

    # Test and demo INS OIDs are for non-production data only (identifiers.md §2).
    allow_test_identities: bool = True

    @model_validator(mode="after")
    def refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key == DEV_SECRET:
                raise ValueError("TELESANTE_SECRET_KEY must be set in production")
            self.allow_test_identities = False
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The async URL the application uses."""
        if self.database_url:
            url = self.database_url
            for prefix in ("postgresql://", "postgres://", "postgresql+asyncpg://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'telesante.sqlite3').resolve()}"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
