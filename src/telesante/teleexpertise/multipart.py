"""multipart/form-data parsed in memory, after the body was read within its limit.

Starlette's form parser spools large files to a temporary file; a plaintext medical photo
must never touch the disk (documents/intake.py), so the parts are collected here in memory.
"""

from dataclasses import dataclass, field
from email.message import Message

from python_multipart.multipart import MultipartParser, parse_options_header

from telesante.errors import Invalid

MAX_PARTS = 20


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Collector:
    parts: list[Part] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    field_name: bytes = b""
    field_value: bytes = b""
    chunks: list[bytes] = field(default_factory=list)


def boundary_of(content_type: str) -> bytes | None:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return options.get(b"boundary")


def parse_form(body: bytes, boundary: bytes) -> list[Part]:
    """The parts of the form, in order; 422 if the body is not a well-formed form."""
    state = _Collector()
    parser = MultipartParser(boundary, _callbacks(state))  # type: ignore[arg-type]
    try:
        parser.write(body)
        parser.finalize()
    except Exception:  # the parser raises several error types for a broken body
        raise Invalid("formulaire multipart illisible") from None
    if len(state.parts) > MAX_PARTS:
        raise Invalid(f"au plus {MAX_PARTS} parties par formulaire")
    return state.parts


def _callbacks(state: _Collector) -> dict[str, object]:
    def on_part_begin() -> None:
        state.headers, state.chunks = {}, []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.field_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.field_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.field_name.decode("latin-1").lower()] = state.field_value.decode(
            "utf-8", "replace"
        )
        state.field_name, state.field_value = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state.chunks.append(data[start:end])

    def on_part_end() -> None:
        disposition = Message()
        disposition["content-disposition"] = state.headers.get("content-disposition", "")
        name = disposition.get_param("name", header="content-disposition")
        filename = disposition.get_filename()
        state.parts.append(
            Part(
                name=str(name or ""),
                filename=filename,
                content_type=state.headers.get("content-type"),
                data=b"".join(state.chunks),
            )
        )

    return {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
