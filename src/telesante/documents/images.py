"""Images are decoded and re-encoded from their pixels only, so no metadata survives.

A photo taken by a phone carries EXIF (GPS position, device serial, time), XMP, comments,
ICC profiles: none of it belongs in a medical record, and the GPS position of a patient's
home is personal data nobody asked for. Decoding a small file can also allocate gigabytes
(a "decompression bomb"), so the pixel count is checked from the header before Pillow
decodes anything, and again by Pillow itself.
"""

import io
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import ExifTags, Image, UnidentifiedImageError

from telesante.documents.sniff import JPEG, PNG, Kind

MAX_PIXELS = 40_000_000  # a 40-megapixel photo is already more than any phone takes
JPEG_QUALITY = 92  # re-encoding loses a little; clinical photos must stay sharp
PNG_MODES = frozenset({"1", "L", "LA", "I", "I;16", "RGB", "RGBA"})
JPEG_MODES = frozenset({"L", "RGB", "CMYK"})
PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG"}
# How to turn the pixels for each EXIF orientation (the table of ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_WARNINGS = threading.Lock()
# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageRefused(Exception):
    """Why the image cannot be stored, in French for the client."""


def header_size(data: bytes, kind: Kind) -> tuple[int, int] | None:
    """Width and height read from the header without decoding; None if not found."""
    if kind is PNG:
        return struct.unpack(">II", data[16:24]) if len(data) >= 24 and data[12:16] == b"IHDR" else None
    return _jpeg_size(data)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in SOF_MARKERS:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7:  # markers without a length
            at += 2
            continue
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None


def check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageRefused(
            f"image de {width}×{height} pixels : au-delà de {MAX_PIXELS // 1_000_000} mégapixels"
        )


def reencode(data: bytes, kind: Kind) -> bytes:
    """The same picture, from its pixels only, in the same format (blocking: run it in a thread)."""
    size = header_size(data, kind)
    if size is None:
        raise ImageRefused("image illisible : en-tête introuvable")
    check_pixels(*size)
    try:
        with _quiet_pillow():
            image = Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[kind]])
            orientation = _orientation(image)
        with image:
            check_pixels(*image.size)  # Pillow's own reading of the header, in case it differs from ours
            return _save(_pixels_only(image, orientation, kind), kind)
    except Image.DecompressionBombError:
        raise ImageRefused(f"image au-delà de {MAX_PIXELS // 1_000_000} mégapixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
        # Pillow reports truncated or corrupt data with any of these.
        raise ImageRefused("image corrompue ou illisible") from None


@contextmanager
def _quiet_pillow() -> Iterator[None]:
    """Pillow warns about corrupt EXIF while opening a JPEG. All EXIF is dropped anyway, so a
    corrupt one only costs the orientation: it must neither refuse the photo nor fill the logs.
    (Pillow's DecompressionBombWarning is silenced too: our own pixel cap is lower.)"""
    # catch_warnings swaps process-wide state: threads must not interleave inside it.
    with _WARNINGS, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _pixels_only(image: Image.Image, orientation: int, kind: Kind) -> Image.Image:
    # Turn the pixels as the EXIF orientation says first: once EXIF is gone, a photo of a
    # wound taken sideways would otherwise be shown sideways.
    turn = UPRIGHT.get(orientation)
    upright = image.transpose(turn) if turn is not None else image
    modes = PNG_MODES if kind is PNG else JPEG_MODES
    if upright.mode not in modes:
        upright = upright.convert("RGBA" if kind is PNG else "RGB")
    # A new image holding only the pixels has an empty `info`: no EXIF, XMP, ICC, comment or
    # text chunk can reach the encoder. (paste, not frombytes(tobytes()): one copy less in memory)
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    return clean


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation; 1 (as stored) when EXIF is absent or corrupt."""
    try:
        value = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (ValueError, TypeError, OSError, SyntaxError, struct.error):
        return 1
    return value if isinstance(value, int) else 1


def _save(image: Image.Image, kind: Kind) -> bytes:
    out = io.BytesIO()
    if kind is JPEG:
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        image.save(out, "PNG")
    return out.getvalue()
