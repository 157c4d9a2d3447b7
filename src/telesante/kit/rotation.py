"""Master-key rotation: re-wrap the data key of every encrypted value, in batches.

The application keeps running: it decrypts with any key of the keyring, and
each batch is its own short transaction. Data is not re-encrypted.
"""

from sqlalchemy import Column, LargeBinary, Table, select, type_coerce, update

import telesante.models  # noqa: F401 - every table, so every encrypted column is found
from telesante.db import Base, transaction
from telesante.kit.crypto import active
from telesante.kit.encrypted import ENCRYPTED_TYPES
from telesante.runtime import Runtime

BATCH = 200


def encrypted_columns() -> list[tuple[Table, Column[bytes]]]:
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, ENCRYPTED_TYPES)
    ]


async def rotate_all(runtime: Runtime) -> dict[str, int]:
    return {f"{t.name}.{c.name}": await _rotate_column(runtime, t, c) for t, c in encrypted_columns()}


async def _rotate_column(runtime: Runtime, table: Table, column: Column[bytes]) -> int:
    keyring, raw = active(), type_coerce(column, LargeBinary)
    done, after = 0, ""
    while True:
        async with transaction(runtime.sessionmaker) as db:
            rows = (
                await db.execute(
                    select(table.c.id, raw)
                    .where(table.c.id > after, column.is_not(None))
                    .order_by(table.c.id)
                    .limit(BATCH)
                )
            ).all()
            for row_id, blob in rows:
                rewrapped = keyring.rewrap(bytes(blob))
                if rewrapped is not None:
                    await db.execute(
                        update(table)
                        .where(table.c.id == row_id)
                        .values({column.name: type_coerce(rewrapped, LargeBinary)})
                    )
                    done += 1
        if len(rows) < BATCH:
            return done
        after = rows[-1][0]
