"""Files to upload, built in the test: photos with GPS, PDFs with or without active content, bombs."""

import io
import struct
import zlib

from PIL import ExifTags, Image

MARKER = b"DIAGNOSTIC-CONFIDENTIEL-7F3A"
GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (2.0, 21.0, 7.0),
}


def photo_with_gps(size: tuple[int, int] = (64, 48), orientation: int | None = None) -> bytes:
    """A phone-like JPEG: EXIF with the make, the GPS position of the patient's home, a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.GPSInfo] = GPS
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", exif=exif, comment=b"chez le patient")
    return out.getvalue()


def photo_with_corrupt_exif() -> bytes:
    """A photo whose first EXIF tag claims 2 GB of data: Pillow warns while merely opening it."""
    photo = bytearray(photo_with_gps())
    first_entry = photo.index(b"Exif\x00\x00") + 6 + 8 + 2  # after the TIFF header and the entry count
    photo[first_entry + 4 : first_entry + 8] = b"\x7f\xff\xff\xff"  # the "count" field (big-endian here)
    return bytes(photo)


def png(size: tuple[int, int] = (32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 90, 200, 255)).save(out, "PNG")
    return out.getvalue()


def pdf(body: bytes = b"", *, padding: int = 0, eof: bool = True) -> bytes:
    """A one-page PDF whose title holds MARKER in clear; `body` adds objects; `padding` grows it."""
    parts = [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n",
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n",
        b"4 0 obj\n<< /Title (" + MARKER + b") >>\nendobj\n",
        body,
    ]
    if padding:
        filler = bytes(range(256)) * (padding // 256 + 1)
        parts.append(
            b"5 0 obj\n<< /Length %d >>\nstream\n" % padding + filler[:padding] + b"\nendstream\nendobj\n"
        )
    parts.append(b"trailer\n<< /Root 1 0 R /Info 4 0 R >>\n" + (b"%%EOF\n" if eof else b""))
    return b"".join(parts)


def object_stream(objects: bytes) -> bytes:
    """Objects hidden in a compressed object stream (PDF 1.5), where a byte scan cannot see them."""
    packed = zlib.compress(b"9 0 " + objects)
    return (
        b"8 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n" % len(packed)
        + packed
        + b"\nendstream\nendobj\n"
    )


def png_header_only(width: int, height: int, rows: int = 0) -> bytes:
    """A PNG claiming width×height 1-bit pixels; with `rows`, that many rows of real (zero) data.

    A few kilobytes that Pillow would decode into width×height pixels: a decompression bomb.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
