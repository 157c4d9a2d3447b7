"""A professional's téléconsultation share against their cap (caps.py): arithmetic only.

The share is the téléconsultations that count towards the cap over the whole activity: every
téléconsultation (counted or left out) plus the acts declared in person. That follows the
convention's words ("volume d'activité globale conventionnée"); the FMF reports caisses that divide
by the activity outside the médecin traitant's own patients instead, which gives a higher share.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telesante.billing.teleconsultation_rules import BY_GP_OF_RECORD

APPROACHING_MARGIN_POINTS = 2  # percentage points under the cap where the warning starts (18 % for 20 %)


class Level(StrEnum):
    ok = "ok"
    approaching = "approaching"
    over = "over"


@dataclass(frozen=True)
class Activity:
    counted_tlc: int  # téléconsultations that count towards the cap
    excluded_tlc: int  # the médecin traitant's, with their own patients
    in_person_acts: int  # declared by the professional (Telesante does not see them)
    undeclared_months: tuple[str, ...] = ()  # months with téléconsultations but no declaration


@dataclass(frozen=True)
class Share:
    activity: Activity
    percent: float  # rounded to one decimal, for display
    cap_percent: int
    level: Level
    message: str  # French, empty when there is nothing to say


def by_gp_of_record(rules: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a billing line's rules say the professional was the patient's médecin traitant."""
    return any(r.get("name") == "parcours" and r.get("why") == BY_GP_OF_RECORD for r in rules)


def activity_of(
    months: Sequence[str], tlc: Mapping[str, tuple[int, int]], declared: Mapping[str, int]
) -> Activity:
    """Sum a period's months: `tlc` maps a month to (counted, excluded), `declared` to in-person acts."""
    counted = sum(tlc.get(m, (0, 0))[0] for m in months)
    excluded = sum(tlc.get(m, (0, 0))[1] for m in months)
    undeclared = tuple(m for m in months if sum(tlc.get(m, (0, 0))) and m not in declared)
    return Activity(counted, excluded, sum(declared.get(m, 0) for m in months), undeclared)


def level_of(activity: Activity, cap_percent: int) -> Level:
    """Integer comparisons, so that 18 % of 100 acts is exactly at the warning line."""
    total = activity.counted_tlc + activity.excluded_tlc + activity.in_person_acts
    if activity.counted_tlc * 100 > cap_percent * total:
        return Level.over
    if total and activity.counted_tlc * 100 >= (cap_percent - APPROACHING_MARGIN_POINTS) * total:
        return Level.approaching
    return Level.ok


def share(activity: Activity, cap_percent: int) -> Share:
    total = activity.counted_tlc + activity.excluded_tlc + activity.in_person_acts
    percent = round(100 * activity.counted_tlc / total, 1) if total else 0.0
    level = level_of(activity, cap_percent)
    return Share(activity, percent, cap_percent, level, _message(activity, cap_percent, level))


def _message(activity: Activity, cap_percent: int, level: Level) -> str:
    verb = {Level.approaching: "approche du", Level.over: "dépasse le"}.get(level)
    parts = []
    if verb:
        parts.append(
            f"Attention : votre part de téléconsultation {verb} plafond de {cap_percent} % "
            "de votre activité annuelle."
        )
    if activity.undeclared_months:
        months = ", ".join(f"{m[5:]}/{m[:4]}" for m in activity.undeclared_months)
        parts.append(
            f"Aucune activité en présentiel déclarée pour {months} : la part ne compte que vos "
            "téléconsultations. Déclarez votre activité en présentiel du mois pour un calcul juste."
        )
    return " ".join(parts)
