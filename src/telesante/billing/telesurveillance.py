"""Dated télésurveillance forfaits (billing.md § Télésurveillance): data with validity dates and
sources, never constants in the rules. `verified` is False where the source is.

- Operator forfait (the doctor or team who interprets, codes TVA / TVB), per patient and month:
  niveau 1 11 €, niveau 2 28 €, majoré 1 56 €, majoré 2 70 € [ameli LPP; arrêté du 16 mai 2023
  modifié par l'arrêté du 21 décembre 2023]. Billed after each month (or grouped up to 6 months).
  Which level goes with which of the two codes is not written in billing.md: unverified. The date
  from which these amounts apply is taken as the start of the droit commun (1 July 2023): the
  amounts come from the amended arrêté, their effective date is unverified.
- Technical forfait (the exploitant of the medical device, not the operator), per month, by the
  benefit shown [arrêté du 16 mai 2023 via KOS avocats]. Telesante bills the operator's forfait
  only: these rows are kept so that the whole tariff stands in one place.
"""

from dataclasses import dataclass
from datetime import date

DROIT_COMMUN = date(2023, 7, 1)
OPERATOR_SOURCE = "billing.md : ameli LPP ; arrêté du 16 mai 2023 modifié par l'arrêté du 21 décembre 2023"


@dataclass(frozen=True)
class Forfait:
    level: str
    label: str
    code: str
    amount_cents: int
    valid_from: date
    valid_to: date | None
    source: str
    verified: bool  # the amount
    code_verified: bool = False  # the level ↔ TVA/TVB correspondence


OPERATOR_FORFAITS = (
    Forfait("niveau_1", "Niveau 1", "TVA", 1100, DROIT_COMMUN, None, OPERATOR_SOURCE, verified=True),
    Forfait("niveau_2", "Niveau 2", "TVA", 2800, DROIT_COMMUN, None, OPERATOR_SOURCE, verified=True),
    Forfait("majore_1", "Majoré 1", "TVB", 5600, DROIT_COMMUN, None, OPERATOR_SOURCE, verified=True),
    Forfait("majore_2", "Majoré 2", "TVB", 7000, DROIT_COMMUN, None, OPERATOR_SOURCE, verified=True),
)


@dataclass(frozen=True)
class TechnicalForfait:
    benefit: str
    amount_cents: int
    valid_from: date
    valid_to: date | None
    source: str
    verified: bool


TECHNICAL_SOURCE = "billing.md : arrêté du 16 mai 2023 via KOS avocats"
TECHNICAL_FORFAITS = (
    TechnicalForfait("organisationnel", 5000, DROIT_COMMUN, None, TECHNICAL_SOURCE, verified=True),
    TechnicalForfait("clinique, qualité de vie", 7333, DROIT_COMMUN, None, TECHNICAL_SOURCE, verified=True),
    TechnicalForfait("clinique, morbidité", 8250, DROIT_COMMUN, None, TECHNICAL_SOURCE, verified=True),
    TechnicalForfait("clinique, mortalité", 9167, DROIT_COMMUN, None, TECHNICAL_SOURCE, verified=True),
)


def operator_forfait(level: str, on: date) -> Forfait:
    """The operator forfait of this level in force on `on`."""
    for candidate in OPERATOR_FORFAITS:
        if (
            candidate.level == level
            and candidate.valid_from <= on
            and (candidate.valid_to is None or on <= candidate.valid_to)
        ):
            return candidate
    raise LookupError(f"no operator forfait {level} on {on.isoformat()}")
