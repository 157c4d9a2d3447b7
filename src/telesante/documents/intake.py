"""Reading an upload into memory, within a limit, and naming it safely.

The body is never handed to a multipart parser: Starlette spools large parts to a
temporary file, and a plaintext medical document must never touch the disk. It is read
chunk by chunk into memory and the reading stops as soon as it passes the limit.
"""

import unicodedata
from collections.abc import AsyncIterator

from telesante.documents.sniff import Kind
from telesante.errors import AppError

MAX_BYTES = 20 * 1024 * 1024
MAX_FILENAME = 120
# Characters that mean something to a file system or to a Content-Disposition header.
UNSAFE = str.maketrans({c: "_" for c in '<>:"|?*;\\'})


class TooLarge(AppError):
    status, code, title = 413, "too_large", "Contenu trop volumineux"


class UnsupportedType(AppError):
    status, code, title = 415, "unsupported_media_type", "Type de contenu non accepté"


def too_large() -> TooLarge:
    return TooLarge(f"le fichier dépasse {MAX_BYTES / 1_048_576:g} Mo")


def check_declared_length(content_length: str | None) -> None:
    """Refuse before reading anything when the client already says it is too big."""
    if content_length is None:
        return
    if not content_length.strip().isdigit():
        raise AppError("en-tête Content-Length invalide")
    if int(content_length) > MAX_BYTES:
        raise too_large()


async def read_limited(stream: AsyncIterator[bytes]) -> bytes:
    """The whole body, in memory; TooLarge as soon as it passes MAX_BYTES, whatever Content-Length said."""
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > MAX_BYTES:  # read at call time, so the limit can be changed at run time
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def safe_filename(raw: str | None, kind: Kind) -> str:
    """A name to show and to offer on download: no path, no control or bidi characters, short,
    and ending with the extension of what the bytes really are."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C covers control characters and format ones such as U+202E, which turns
    # "rapport‮fdp.exe" into a name that reads like "rapportexe.pdf".
    name = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in name)
    name = " ".join(name.translate(UNSAFE).split()).lstrip(".")
    stem, dot, extension = name.rpartition(".")
    if dot and f".{extension.lower()}" in _extensions(kind):
        extension = f".{extension}"  # the sender's spelling (.JPG, .jpeg) when it tells the truth
    else:
        stem, extension = name, kind.extension
    stem = stem.strip() or "document"
    return stem[: MAX_FILENAME - len(extension)].rstrip() + extension


def _extensions(kind: Kind) -> set[str]:
    return {kind.extension, ".jpeg"} if kind.extension == ".jpg" else {kind.extension}
