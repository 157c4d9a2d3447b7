"""What a file really is, from its first bytes, and what its sender says it is."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    media_type: str
    extension: str
    magic: bytes
    aliases: frozenset[str]  # declared types that clients send for this kind


PDF = Kind("application/pdf", ".pdf", b"%PDF-", frozenset({"application/pdf", "application/x-pdf"}))
JPEG = Kind("image/jpeg", ".jpg", b"\xff\xd8\xff", frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}))
PNG = Kind("image/png", ".png", b"\x89PNG\r\n\x1a\n", frozenset({"image/png", "image/x-png"}))
KINDS = (PDF, JPEG, PNG)
ACCEPTED = ", ".join(kind.media_type for kind in KINDS)


def sniff(data: bytes) -> Kind | None:
    """The kind whose magic bytes open `data`; None for anything else (we never guess from a name)."""
    return next((kind for kind in KINDS if data.startswith(kind.magic)), None)


def media_type_of(content_type: str | None) -> str:
    """`image/JPEG; charset=x` → `image/jpeg`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def declared_kind(content_type: str | None) -> Kind | None:
    media_type = media_type_of(content_type)
    return next((kind for kind in KINDS if media_type in kind.aliases), None)
