"""Envelope encryption at rest (AES-256-GCM).

Every stored object gets its own random data key; the data key is wrapped by a
master key, and the master key's id travels with the ciphertext:

    version(1) | kid length(1) | kid | wrapped data key (12 nonce + 48) | nonce(12) | ciphertext+tag

Rotating the master key re-wraps data keys only (`telesante keys rotate`); the
data itself is not re-encrypted. Master keys come from TELESANTE_MASTER_KEY or a
key file: `kid:base64key[,kid:base64key…]`, the first one encrypting, all of
them decrypting.
"""

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
NONCE = 12
WRAPPED = NONCE + 32 + 16


class DecryptionError(Exception):
    """Unknown master key, or ciphertext that was altered."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    current: str

    @classmethod
    def parse(cls, text: str) -> "Keyring":
        keys: dict[str, bytes] = {}
        order = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            kid, _, encoded = item.partition(":")
            key = base64.b64decode(encoded)
            if not kid or len(kid) > 40 or len(key) != 32:
                raise ValueError("each master key is 'kid:base64(32 bytes)'")
            keys[kid] = key
            order.append(kid)
        if not keys:
            raise ValueError("no master key given")
        return cls(keys, order[0])

    def encrypt(self, plaintext: bytes) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE)
        body = nonce + AESGCM(data_key).encrypt(nonce, plaintext, None)
        return self._header(self.current, self._wrap(self.current, data_key)) + body

    def decrypt(self, blob: bytes) -> bytes:
        kid, wrapped, body = self._split(blob)
        data_key = self._unwrap(kid, wrapped)
        try:
            return AESGCM(data_key).decrypt(body[:NONCE], body[NONCE:], None)
        except InvalidTag:
            raise DecryptionError("ciphertext altered") from None

    def rewrap(self, blob: bytes) -> bytes | None:
        """The same ciphertext with its data key wrapped by the current master key; None if it already is."""
        kid, wrapped, body = self._split(blob)
        if kid == self.current:
            return None
        data_key = self._unwrap(kid, wrapped)
        return self._header(self.current, self._wrap(self.current, data_key)) + body

    def key_id_of(self, blob: bytes) -> str:
        return self._split(blob)[0]

    def _wrap(self, kid: str, data_key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + AESGCM(self.keys[kid]).encrypt(nonce, data_key, kid.encode())

    def _unwrap(self, kid: str, wrapped: bytes) -> bytes:
        if kid not in self.keys:
            raise DecryptionError(f"master key {kid!r} is not in the keyring")
        try:
            return AESGCM(self.keys[kid]).decrypt(wrapped[:NONCE], wrapped[NONCE:], kid.encode())
        except InvalidTag:
            raise DecryptionError("wrapped data key altered") from None

    @staticmethod
    def _header(kid: str, wrapped: bytes) -> bytes:
        encoded = kid.encode()
        return bytes([VERSION, len(encoded)]) + encoded + wrapped

    @staticmethod
    def _split(blob: bytes) -> tuple[str, bytes, bytes]:
        if len(blob) < 2 or blob[0] != VERSION:
            raise DecryptionError("not a Telesante ciphertext")
        end = 2 + blob[1]
        kid = blob[2:end].decode()
        return kid, blob[end : end + WRAPPED], blob[end + WRAPPED :]


def new_key_entry(kid: str) -> str:
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def load_keyring(master_key: str | None, key_file: Path | None, data_dir: Path, production: bool) -> Keyring:
    """From the setting, else the key file; in development a key file is made on first use."""
    if master_key:
        return Keyring.parse(master_key)
    path = key_file or data_dir / "master.key"
    if not path.exists():
        if production:
            raise RuntimeError("TELESANTE_MASTER_KEY or TELESANTE_MASTER_KEY_FILE is required in production")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(new_key_entry("k1") + "\n")
    return Keyring.parse(path.read_text())


_active: Keyring | None = None


def activate(keyring: Keyring) -> None:
    """Install the process's keyring (done once by the Runtime)."""
    global _active
    _active = keyring


def active() -> Keyring:
    if _active is None:
        raise RuntimeError("no keyring: the Runtime installs one at start")
    return _active
