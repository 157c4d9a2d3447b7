"""PDF checks: a whole file, with no active content and nothing hidden inside.

A PDF can run JavaScript in the reader (`/JavaScript` actions, `/JS`), launch programs
(`/Launch`) and carry other files (`/EmbeddedFile`): a medical report needs none of it,
and each is a way in for malware sent to a doctor. Names may be written with `#xx`
escapes (`/J#61vaScript`) and dictionaries may sit compressed inside object streams
(`/Type /ObjStm`, PDF 1.5), so names are decoded and object streams decompressed before
looking. This is a filter, not a PDF parser: what it cannot read it refuses.
"""

import re
import zlib

from telesante.documents.sniff import PDF

TRAILER_WINDOW = 1024  # readers accept a little garbage after %%EOF; so do we
MAX_INFLATED = 64 * 1024 * 1024  # object streams hold dictionaries, not pictures
# Long names: matching them in binary data by chance is practically impossible.
FORBIDDEN = frozenset({"JavaScript", "EmbeddedFile", "EmbeddedFiles", "Launch"})
# /JS is short enough to appear by chance in compressed images, so it is only looked for
# outside stream data (a JavaScript action needs /S /JavaScript anyway, caught everywhere).
FORBIDDEN_OUTSIDE_STREAMS = FORBIDDEN | {"JS"}
REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"  # any byte but PDF white space and delimiters
NAME = re.compile(rb"/(" + REGULAR + rb"*)")
# In the whole file (binary data included) only the names that could be forbidden are
# worth decoding: the long ones as written, and any name with a #xx escape.
SUSPECT = re.compile(
    rb"/(JavaScript|EmbeddedFiles?|Launch|" + REGULAR + rb"*#" + REGULAR + rb"*)(?!" + REGULAR + rb")"
)
HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
STREAM = re.compile(rb"(?<!end)stream\r?\n")
FILTERS = frozenset(
    {"ASCIIHexDecode", "ASCII85Decode", "LZWDecode", "FlateDecode", "RunLengthDecode", "CCITTFaxDecode"}
    | {"JBIG2Decode", "DCTDecode", "JPXDecode", "Crypt", "AHx", "A85", "LZW", "Fl", "RL", "CCF", "DCT"}
)
DICT_BEFORE = 2048  # how far back a stream's dictionary is looked for


class PdfRefused(Exception):
    """Why the PDF cannot be stored, in French for the client."""


def check_pdf(data: bytes) -> None:
    """Raise PdfRefused unless `data` is a complete PDF with no active or embedded content."""
    if not data.startswith(PDF.magic):
        raise PdfRefused("en-tête %PDF- absent")
    if b"%%EOF" not in data[-TRAILER_WINDOW:]:
        raise PdfRefused("PDF incomplet : marque de fin %%EOF absente")
    outside, streams = _split_streams(data)
    _refuse_names(outside, FORBIDDEN_OUTSIDE_STREAMS)
    _refuse_names(data, FORBIDDEN, SUSPECT)
    if "Encrypt" in names(outside):
        raise PdfRefused("PDF chiffré : son contenu ne peut pas être vérifié")
    inflated = 0
    for dictionary, body in streams:
        if "ObjStm" in names(dictionary):
            text = _inflate_object_stream(dictionary, body, MAX_INFLATED - inflated)
            inflated += len(text)
            _refuse_names(text, FORBIDDEN_OUTSIDE_STREAMS)


def names(data: bytes, pattern: re.Pattern[bytes] = NAME) -> set[str]:
    """Every PDF name in `data` (that `pattern` finds), `#xx` escapes decoded."""
    raw_names = set(pattern.findall(data))
    return {_unescape(raw).decode("latin-1") for raw in raw_names}


def _unescape(raw: bytes) -> bytes:
    return HEX_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw) if b"#" in raw else raw


def _refuse_names(data: bytes, forbidden: frozenset[str], pattern: re.Pattern[bytes] = NAME) -> None:
    found = sorted(names(data, pattern) & forbidden)
    if found:
        raise PdfRefused(f"PDF refusé : contenu actif ou fichier joint (/{found[0]})")


def _split_streams(data: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The text outside stream data, and each stream as (dictionary before it, raw data)."""
    outside, streams, at = [], [], 0
    while match := STREAM.search(data, at):
        end = data.find(b"endstream", match.end())
        if end < 0:
            raise PdfRefused("PDF corrompu : flux sans fin (endstream)")
        outside.append(data[at : match.end()])
        streams.append((_dictionary_before(data, match.start()), data[match.end() : end]))
        at = end
    outside.append(data[at:])
    return b"".join(outside), streams


def _dictionary_before(data: bytes, start: int) -> bytes:
    window = data[max(0, start - DICT_BEFORE) : start]
    opening = window.rfind(b" obj")
    return window[opening:] if opening >= 0 else window


def _inflate_object_stream(dictionary: bytes, body: bytes, budget: int) -> bytes:
    found = names(dictionary)
    filters = found & FILTERS
    if not filters:
        return body  # an uncompressed object stream is already text
    if not filters <= {"FlateDecode", "Fl"} or found & {"DecodeParms", "DP"}:
        raise PdfRefused("PDF refusé : flux d'objets dans un encodage non vérifiable")
    try:
        text = zlib.decompressobj().decompress(body, budget + 1)
    except zlib.error:
        raise PdfRefused("PDF corrompu : flux d'objets illisible") from None
    if len(text) > budget:
        raise PdfRefused("PDF refusé : flux d'objets trop volumineux une fois décompressé")
    return text
