"""Dated tariffs (billing.md): tariffs change by convention and arrêté, so they are data with
validity dates, never constants in the rules. `verified` is False where the source is."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Tariff:
    code: str
    amount_cents: int
    valid_from: date
    valid_to: date | None
    source: str
    verified: bool = True


TARIFFS = (
    # Téléconsultation by a GP (sector 1 or OPTAM): 25 €, unchanged by the 2024 convention.
    Tariff("TCG", 2500, date(2018, 9, 15), None, "avenant 6; Télésanté Bretagne 2024; Qare 2025"),
    # Specialists: the specialty's consultation base; 30 € is a placeholder until confirmed.
    Tariff(
        "TC", 3000, date(2018, 9, 15), None, "billing.md: specialty base, values unverified", verified=False
    ),
    # Téléexpertise: requis 20 €, 23 € from 1 January 2026; requérant 10 €.
    Tariff("TE2", 2000, date(2022, 4, 1), date(2025, 12, 31), "avenant 9; Vidal 2024"),
    Tariff("TE2", 2300, date(2026, 1, 1), None, "billing.md: 23 € from 1 Jan 2026"),
    Tariff("RQD", 1000, date(2022, 4, 1), None, "avenant 9; Omniprat 2024"),
)


def tariff(code: str, on: date) -> Tariff:
    for candidate in TARIFFS:
        if (
            candidate.code == code
            and candidate.valid_from <= on
            and (candidate.valid_to is None or on <= candidate.valid_to)
        ):
            return candidate
    raise LookupError(f"no tariff for {code} on {on.isoformat()}")
