"""Column types encrypted with the process keyring (kit/crypto.py)."""

from typing import Any

from sqlalchemy import LargeBinary, TypeDecorator

from telesante.kit.crypto import active


class EncryptedBytes(TypeDecorator[bytes]):
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else active().encrypt(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> bytes | None:
        return None if value is None else active().decrypt(bytes(value))


class EncryptedText(TypeDecorator[str]):
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> bytes | None:
        return None if value is None else active().encrypt(value.encode())

    def process_result_value(self, value: bytes | None, dialect: Any) -> str | None:
        return None if value is None else active().decrypt(bytes(value)).decode()


ENCRYPTED_TYPES = (EncryptedBytes, EncryptedText)
