"""The `telesante` command."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from sqlalchemy import select

from telesante.settings import get_settings

T = TypeVar("T")


def run(factory: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(factory())  # type: ignore[arg-type]


@click.group()
def main() -> None:
    """Telesante: French telemedicine platform."""


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--seal", "seal_first", is_flag=True, help="Chain the pending events before verifying")
def audit_verify(seal_first: bool) -> None:
    """Check the audit hash chain; exit 1 and say where it breaks if any event was altered,
    deleted or inserted."""
    from telesante.audit import chain
    from telesante.db import transaction
    from telesante.runtime import Runtime

    async def check() -> tuple[int, list[chain.Break], int]:
        runtime = Runtime.create(get_settings())
        try:
            if seal_first:
                async with transaction(runtime.sessionmaker) as db:
                    await chain.seal(db)
            async with transaction(runtime.sessionmaker) as db:
                checked, breaks = await chain.verify(db)
                return checked, breaks, await chain.unsealed_count(db)
        finally:
            await runtime.close()

    checked, breaks, pending = run(check)
    for item in breaks:
        click.echo(f"BROKEN at seq {item.seq} (event {item.event_id}): {item.problem}")
    click.echo(f"{checked} events checked, {len(breaks)} break(s), {pending} not yet sealed")
    if breaks:
        raise SystemExit(1)


@main.group()
def keys() -> None:
    """Master keys of the encryption at rest."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-wrap every data key under the current (first) master key. Put the new key first in
    TELESANTE_MASTER_KEY, keep the old ones after it, run this, then drop the old ones."""
    from telesante.kit.rotation import rotate_all
    from telesante.runtime import Runtime

    async def rotate() -> dict[str, int]:
        runtime = Runtime.create(get_settings())
        try:
            return await rotate_all(runtime)
        finally:
            await runtime.close()

    for column, count in run(rotate).items():
        click.echo(f"{column}: {count} re-wrapped")


def _register_subcommands() -> None:
    from telesante.gdpr.cli import export
    from telesante.monitoring.simulate_cli import simulate
    from telesante.regulation.simulate_cli import simulate_calls_command

    simulate.add_command(simulate_calls_command)
    main.add_command(export)
    main.add_command(simulate)


@main.command()
def migrate() -> None:
    """Bring the database schema to the latest migration."""
    from telesante.migrations import upgrade

    upgrade(get_settings().sqlalchemy_url)
    click.echo("database at head")


@main.command()
@click.option("--host", default=None, help="Listen address (default TELESANTE_HOST)")
@click.option("--port", type=int, default=None, help="Port (default TELESANTE_PORT)")
@click.option("--no-worker", is_flag=True, help="Do not run the job worker in this process")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM)")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM)")
def serve(
    host: str | None, port: int | None, no_worker: bool, certfile: str | None, keyfile: str | None
) -> None:
    """Serve the web UI, API, FHIR and WebSocket (with the job worker unless --no-worker)."""
    import uvicorn

    from telesante.app import create_app

    settings = get_settings()
    app = create_app(settings, run_worker=not no_worker and settings.run_worker_in_serve)
    certfile = certfile or (str(settings.tls_certfile) if settings.tls_certfile else None)
    keyfile = keyfile or (str(settings.tls_keyfile) if settings.tls_keyfile else None)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        # Forward secrecy and AEAD only (ANSSI TLS guide): this also rules out TLS < 1.2.
        ssl_ciphers="ECDHE+AESGCM:ECDHE+CHACHA20",
    )


@main.command()
def worker() -> None:
    """Run the job worker alone (for a separate process)."""
    import signal

    from telesante.jobs import handlers as _handlers  # noqa: F401 - registers every job handler
    from telesante.jobs.worker import Worker
    from telesante.ops.logging import configure_logging
    from telesante.runtime import Runtime

    configure_logging()

    async def main_loop() -> None:
        runtime = Runtime.create(get_settings())
        job_worker = Worker(runtime)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, job_worker.stop)
        try:
            await job_worker.run_forever()
        finally:
            await runtime.close()

    asyncio.run(main_loop())


@main.command()
@click.option("--patients", "patient_count", default=36, show_default=True)
def demo(patient_count: int) -> None:
    """Load realistic French demo data (idempotent) and print the accounts."""
    from telesante.demo.load import load_demo

    summary = run(lambda: load_demo(get_settings(), patient_count))
    click.echo(summary)


@main.group()
def users() -> None:
    """Accounts."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array")
def users_list(as_json: bool) -> None:
    """List accounts with their email, role and RPPS."""
    rows = run(_users)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            click.echo(f"{row['email']}\t{row['role']}\t{row['rpps'] or ''}")


async def _users() -> list[dict[str, Any]]:
    from telesante.auth.models import User
    from telesante.db import transaction
    from telesante.directory.models import Professional
    from telesante.runtime import Runtime

    runtime = Runtime.create(get_settings())
    try:
        async with transaction(runtime.sessionmaker) as db:
            rows = await db.execute(
                select(User.email, User.role, Professional.rpps, Professional.profession)
                .outerjoin(Professional, Professional.id == User.professional_id)
                .order_by(User.role, User.email)
            )
            return [{"email": e, "role": r, "rpps": rpps, "profession": p} for e, r, rpps, p in rows]
    finally:
        await runtime.close()


@main.group("api-token")
def api_token() -> None:
    """API bearer tokens for scripts and integrations."""


@api_token.command("create")
@click.option("--user", "email", required=True, help="Account e-mail")
@click.option("--label", default="cli", show_default=True)
def api_token_create(email: str, label: str) -> None:
    """Create a token; it is printed once, alone on the last line."""
    token = run(lambda: _create_token(email, label))
    if token is None:
        raise click.ClickException(f"no active account {email!r}")
    click.echo(f"API token for {email} (store it now, it is shown once):")
    click.echo(token)


async def _create_token(email: str, label: str) -> str | None:
    from telesante.auth import service
    from telesante.auth.models import User
    from telesante.db import transaction
    from telesante.runtime import Runtime

    settings = get_settings()
    runtime = Runtime.create(settings)
    try:
        async with transaction(runtime.sessionmaker) as db:
            user = await db.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None or not user.is_active:
                return None
            token, _ = await service.create_api_token(db, user, settings, label)
            return token
    finally:
        await runtime.close()


@api_token.command("revoke")
@click.argument("token_id")
def api_token_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    from telesante.auth import service
    from telesante.db import transaction
    from telesante.runtime import Runtime

    async def revoke() -> bool:
        runtime = Runtime.create(get_settings())
        try:
            async with transaction(runtime.sessionmaker) as db:
                return await service.revoke_api_token(db, token_id)
        finally:
            await runtime.close()

    if not run(revoke):
        raise click.ClickException("no such active token")
    click.echo("revoked")


_register_subcommands()
