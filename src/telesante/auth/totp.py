"""TOTP second factor (RFC 6238) with QR-code enrolment and recovery codes."""

import secrets

import pyotp
import segno

from telesante.auth.passwords import hash_password, verify_password

ISSUER = "Telesante"


def new_secret() -> str:
    return str(pyotp.random_base32())


def provisioning_uri(secret: str, email: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER))


def qr_svg(uri: str) -> str:
    """An inline SVG of the otpauth:// URI, for the enrolment page."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, title="QR code TOTP"))


def verify_code(secret: str, code: str) -> bool:
    code = code.replace(" ", "")
    return code.isdigit() and bool(pyotp.TOTP(secret).verify(code, valid_window=1))


def new_recovery_codes(count: int = 8) -> list[str]:
    return [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(count)]


def hash_recovery_codes(codes: list[str]) -> list[str]:
    return [hash_password(code) for code in codes]


def use_recovery_code(hashes: list[str], code: str) -> list[str] | None:
    """The remaining hashes if `code` matched one (which is then spent), else None."""
    code = code.strip().lower()
    for index, stored in enumerate(hashes):
        if verify_password(stored, code):
            return hashes[:index] + hashes[index + 1 :]
    return None
