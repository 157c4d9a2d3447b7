"""Whether a program's month gives the operator forfait, at which level and amount. Pure.

Conditions (acts.md, billing.md § Télésurveillance):
- the activity is one the droit commun covers (diabetes, heart failure, chronic respiratory
  failure here; hypertension alone is not on the list);
- the program was active during the month, and its prescription is under a year old (R162-100);
- the month is over: the forfait is billed after each month;
- enough data was transmitted. ameli asks to check uploads "> 50 %" at months 1 and 2 and to stop
  billing otherwise, without saying 50 % of what. Our rule, applied to every month: more than half
  of the days the patient was followed in the month (Paris calendar days) carry at least one
  measurement. A CGM that stopped for a week in a month of 30 days still bills; one that sent on
  10 days of 30 does not.

Level by indication: niveau 2 is the base for heart failure and diabetes [billing.md]; the level of
chronic respiratory failure is not in the sources (unverified, niveau 2 assumed). The majorated
levels need the prescriber's judgement of complexity, which the program does not record yet.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from telesante.billing.telesurveillance import Forfait, operator_forfait

PARIS = ZoneInfo("Europe/Paris")
PRESCRIPTION_LIMIT = timedelta(days=366)
MIN_DATA_SHARE = 0.5  # strictly more than half of the followed days
LEVELS: dict[str, tuple[str, bool, str]] = {
    # indication: (level, level verified, why)
    "diabetes": ("niveau_2", True, "niveau 2 : base du diabète (billing.md)"),
    "heart_failure": ("niveau_2", True, "niveau 2 : base de l'insuffisance cardiaque (billing.md)"),
    "chronic_respiratory_failure": (
        "niveau_2",
        False,
        "niveau 2 supposé : le niveau de l'insuffisance respiratoire n'est pas dans les sources",
    ),
}
NOT_COVERED = {
    "hypertension": "l'hypertension artérielle seule n'est pas une activité de télésurveillance "
    "prise en charge",
}
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def month_name(month: str) -> str:
    """'2026-11' → 'novembre 2026'."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


@dataclass(frozen=True)
class MonthFacts:
    month: str  # YYYY-MM
    month_start: datetime  # the month's bounds, UTC (Paris midnights)
    month_end: datetime
    indication: str
    program_starts: datetime
    followed_days: int  # Paris days of the month when the program ran
    days_with_data: int  # of those, the days with at least one measurement
    now: datetime


@dataclass(frozen=True)
class Check:
    name: str  # as /facturation shows it
    ok: bool
    why: str


@dataclass(frozen=True)
class Assessment:
    billable: bool
    checks: tuple[Check, ...]
    forfait: Forfait | None
    level_verified: bool

    @property
    def tariff_verified(self) -> bool:
        return (
            self.forfait is not None
            and self.forfait.verified
            and self.forfait.code_verified
            and self.level_verified
        )


def assess(facts: MonthFacts) -> Assessment:
    level = LEVELS.get(facts.indication)
    share = facts.days_with_data / facts.followed_days if facts.followed_days else 0.0
    checks: tuple[Check, ...] = (
        Check("Mois de télésurveillance", True, month_name(facts.month)),
        _covered(facts.indication),
        Check("Mois écoulé", facts.now >= facts.month_end, "facturé après chaque mois"),
        Check(
            "Programme actif dans le mois",
            facts.followed_days > 0,
            f"suivi {facts.followed_days} jour(s) du mois",
        ),
        Check(
            "Prescription de moins d'un an",
            facts.month_start < facts.program_starts + PRESCRIPTION_LIMIT,
            f"programme commencé le {facts.program_starts.astimezone(PARIS):%d/%m/%Y} "
            "(R162-100 : un an au plus)",
        ),
        Check(
            "Données transmises (plus de la moitié des jours)",
            share > MIN_DATA_SHARE,
            f"{facts.days_with_data} jour(s) avec des mesures sur {facts.followed_days} jour(s) suivis "
            f"({round(100 * share)} %)",
        ),
    )
    billable = all(check.ok for check in checks)
    forfait = _forfait(level[0], date.fromisoformat(f"{facts.month}-01")) if level else None
    if level:
        checks += (Check("Niveau du forfait", True, level[2]),)  # an unverified level: tariff "à confirmer"
    return Assessment(billable and forfait is not None, checks, forfait, bool(level and level[1]))


def _covered(indication: str) -> Check:
    if indication in LEVELS:
        return Check("Activité prise en charge", True, "activité de télésurveillance du droit commun")
    return Check(
        "Activité prise en charge", False, NOT_COVERED.get(indication, "activité non prise en charge")
    )


def _forfait(level: str, on: date) -> Forfait | None:
    try:
        return operator_forfait(level, on)
    except LookupError:
        return None
