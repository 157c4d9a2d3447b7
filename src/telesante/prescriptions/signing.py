"""The platform's Ed25519 key that signs every prescription's canonical content.

The private key comes from TELESANTE_PRESCRIPTION_KEY (base64 of the raw 32 bytes) or,
in development and tests only, a key file made in the data dir on first use (like the
master key in kit/crypto.py). The key id is derived from the public key, so a stored
signature always names the key that can verify it.
"""

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from telesante.settings import Settings

ENV = "TELESANTE_PRESCRIPTION_KEY"
KEY_FILE = "prescription.key"


def canonical(content: dict[str, Any]) -> str:
    """The exact text that is signed and stored: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id_of(self.private.public_key())

    def sign(self, text: str) -> bytes:
        return self.private.sign(text.encode("utf-8"))

    def verify(self, key_id: str, text: str, signature: bytes) -> bool:
        """True only for this key's signature of exactly `text`. Unknown keys fail closed."""
        if key_id != self.key_id:
            return False
        try:
            self.private.public_key().verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            return False
        return True


def _from_base64(encoded: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise ValueError(f"{ENV} must be base64") from None
    if len(raw) != 32:
        raise ValueError(f"{ENV} must be the raw 32-byte Ed25519 private key, base64-encoded")
    return Ed25519PrivateKey.from_private_bytes(raw)


def new_key() -> str:
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode()


_cache: dict[tuple[str | None, Path], Signer] = {}


def load_signer(settings: Settings) -> Signer:
    """The setting (or environment variable), else the development key file."""
    configured: str | None = getattr(settings, "prescription_key", None) or os.environ.get(ENV)
    path = settings.data_dir / KEY_FILE
    cached = _cache.get((configured, path))
    if cached:
        return cached
    if configured:
        signer = Signer(_from_base64(configured))
    else:
        if settings.environment == "production":
            raise RuntimeError(f"{ENV} is required in production")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(new_key() + "\n")
        signer = Signer(_from_base64(path.read_text()))
    _cache[(configured, path)] = signer
    return signer
