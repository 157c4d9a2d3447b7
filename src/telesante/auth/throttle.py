"""Throttling of guesses (passwords, second-factor codes): growing locks after repeated failures.

One small interface, two stores: in process by default, Redis when TELESANTE_REDIS_URL is
set, so that several server processes share the counters (same style as realtime/bus.py).
A key counts failures; past `free` failures each new one locks the key for `base` seconds,
doubling up to `cap`. Counters are forgotten `forget` seconds after the last failure.
"""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis
from fastapi import Request


@dataclass(frozen=True)
class Policy:
    free: int  # failures allowed before the first lock
    base: float = 60.0  # first lock, in seconds
    cap: float = 900.0  # longest lock
    forget: float = 3600.0  # a quiet hour wipes the slate

    def lock_after(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return float(min(self.base * 2 ** (failures - self.free), self.cap))


# Per account (keyed by the e-mail as typed, so unknown accounts lock exactly like real ones).
ACCOUNT = Policy(free=5)
# Per client address: looser, since a clinic or a family may share one address.
ADDRESS = Policy(free=20)
# Second-factor codes of one user (TOTP, recovery or e-mailed code).
SECOND_FACTOR = Policy(free=5)


class Limiter(Protocol):
    async def locked_for(self, key: str) -> float:
        """Seconds left on the key's lock, 0 when not locked."""

    async def fail(self, key: str, policy: Policy) -> float:
        """Count a failure; returns the lock it triggered (0 if none)."""

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


@dataclass
class _Entry:
    failures: int
    last: float
    locked_until: float


class InProcessLimiter:
    MAX_KEYS = 100_000  # sweep stale keys beyond this, so a spray cannot grow memory forever

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[_Entry, Policy]] = {}

    async def locked_for(self, key: str) -> float:
        found = self._entries.get(key)
        return max(0.0, found[0].locked_until - self._clock()) if found else 0.0

    async def fail(self, key: str, policy: Policy) -> float:
        now = self._clock()
        found = self._entries.get(key)
        entry = found[0] if found and now - found[0].last < policy.forget else _Entry(0, now, 0.0)
        entry.failures += 1
        entry.last = now
        lock = policy.lock_after(entry.failures)
        if lock:
            entry.locked_until = now + lock
        self._entries[key] = (entry, policy)
        if len(self._entries) > self.MAX_KEYS:
            self._sweep(now)
        return lock

    async def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    async def close(self) -> None:
        self._entries.clear()

    def _sweep(self, now: float) -> None:
        for key, (entry, policy) in list(self._entries.items()):
            if now - entry.last >= policy.forget and entry.locked_until <= now:
                del self._entries[key]


class RedisLimiter:
    """Two keys per subject: a failure counter and a lock, both expiring on their own."""

    def __init__(self, url: str, prefix: str = "telesante:throttle:") -> None:
        self._redis = redis.from_url(url)
        self._prefix = prefix

    async def locked_for(self, key: str) -> float:
        ttl_ms = await self._redis.pttl(f"{self._prefix}{key}:lock")
        return max(0.0, int(ttl_ms) / 1000)

    async def fail(self, key: str, policy: Policy) -> float:
        count_key = f"{self._prefix}{key}:n"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(count_key)
            pipe.expire(count_key, math.ceil(policy.forget))
            failures, _ = await pipe.execute()
        lock = policy.lock_after(int(failures))
        if lock:
            await self._redis.set(f"{self._prefix}{key}:lock", "1", px=int(lock * 1000))
        return lock

    async def reset(self, key: str) -> None:
        await self._redis.delete(f"{self._prefix}{key}:n", f"{self._prefix}{key}:lock")

    async def close(self) -> None:
        await self._redis.aclose()


def make_limiter(redis_url: str | None) -> Limiter:
    return RedisLimiter(redis_url) if redis_url else InProcessLimiter()


def get_limiter(request: Request) -> Limiter:
    """The app's limiter, made on first use from the runtime's settings."""
    limiter: Limiter | None = getattr(request.app.state, "auth_limiter", None)
    if limiter is None:
        limiter = make_limiter(request.app.state.runtime.settings.redis_url)
        request.app.state.auth_limiter = limiter
    return limiter


async def close_limiter(state: object) -> None:
    """For the app's lifespan: close the Redis connection pool, if one was opened."""
    limiter: Limiter | None = getattr(state, "auth_limiter", None)
    if limiter is not None:
        await limiter.close()


def account_key(email: str) -> str:
    # Hashed so that Redis never holds the e-mail addresses people typed.
    return "login:account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(ip: str | None) -> str:
    return f"login:ip:{ip or 'unknown'}"


def second_factor_key(user_id: str) -> str:
    return f"mfa:user:{user_id}"


async def lock_left(limiter: Limiter, *keys: str) -> float:
    return max([await limiter.locked_for(key) for key in keys] or [0.0])


def wait_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Trop de tentatives. Réessayez dans {minutes} {unit}."
