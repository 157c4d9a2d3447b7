"""The patient's GDPR rights: access (export), erasure, and pseudonymised research exports."""

import os
import tempfile
from pathlib import Path
from typing import TextIO

import click

from telesante.settings import get_settings


@click.group()
def export() -> None:
    """Data exports."""


@export.command("research")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="File holding the research key (default: the TELESANTE_RESEARCH_KEY variable)",
)
def research(out: Path, key_file: Path | None) -> None:
    """Write patients and their timeline, pseudonymised, as JSON Lines (one patient a line)."""
    from telesante.gdpr.research import ResearchKeyError, load_key

    try:
        key = load_key(key_file)
    except ResearchKeyError as error:
        raise click.ClickException(str(error)) from None
    count = _write_atomically(out, key)
    click.echo(f"{count} patients written to {out}")


def _write_atomically(out: Path, key: bytes) -> int:
    """Into a temporary file beside `out`, renamed only once complete: no half-written export."""
    import asyncio

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:  # mode 0600: health data
            count = asyncio.run(_export(key, stream))
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return count


async def _export(key: bytes, stream: TextIO) -> int:
    from telesante.db import transaction
    from telesante.gdpr.research import write_export
    from telesante.runtime import Runtime

    runtime = Runtime.create(get_settings())
    try:
        async with transaction(runtime.sessionmaker) as db:
            return await write_export(db, key, stream)
    finally:
        await runtime.close()
