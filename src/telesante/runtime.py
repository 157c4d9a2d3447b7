"""What a running process shares: settings, database and realtime bus."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from telesante.db import make_engine, make_sessionmaker
from telesante.kit import crypto
from telesante.realtime.bus import Bus, make_bus
from telesante.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: Bus

    @classmethod
    def create(cls, settings: Settings) -> "Runtime":
        crypto.activate(
            crypto.load_keyring(
                settings.master_key,
                settings.master_key_file,
                settings.data_dir,
                production=settings.environment == "production",
            )
        )
        engine = make_engine(settings.sqlalchemy_url)
        return cls(settings, engine, make_sessionmaker(engine), make_bus(settings.redis_url))

    async def close(self) -> None:
        await self.bus.close()
        await self.engine.dispose()
