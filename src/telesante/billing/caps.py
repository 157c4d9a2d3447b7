"""Dated caps on a doctor's téléconsultation activity (acts.md, billing.md): conventions change
them, so they are data with validity dates, never constants in the rules.

- Avenant 9 (JO 22 Sep 2021): at most 20 % of the year's conventioned activity at a distance,
  téléconsultations and téléexpertises together [Qare 2025; Hanffou avocat].
- Convention médicale 2024, art. 87.7 (arrêté 20 Jun 2024, JO 21 Jun 2024): 20 % of the
  "volume d'activité globale conventionnée" over a calendar year, 40 % for psychiatrists; the
  médecin traitant's téléconsultations with their own patients and téléexpertises are left out
  [Télésanté Bretagne 2024; Delsol avocats 2024; Concours pluripro 2025].

Unverified: the day the 2024 rules took effect (the JO date is used; Qare reports December 2024
for the psychiatry cap), the exact start of avenant 9's cap, and whether child psychiatry and
neuropsychiatry count as "psychiatres".
"""

from dataclasses import dataclass
from datetime import date

PSYCHIATRY = frozenset({"psychiatrie", "neuropsychiatrie", "pédopsychiatrie"})


@dataclass(frozen=True)
class Cap:
    percent: int
    specialties: frozenset[str] | None  # None: every specialty not matched by a narrower row
    excludes_gp_own_patients: bool  # the médecin traitant's TLC with their own patients
    valid_from: date
    valid_to: date | None
    source: str
    verified: bool = True


CAPS = (
    Cap(40, PSYCHIATRY, True, date(2024, 6, 22), None, "convention 2024 art. 87.7", verified=False),
    Cap(20, None, True, date(2024, 6, 22), None, "convention 2024 art. 87.7; Télésanté Bretagne 2024"),
    Cap(20, None, False, date(2021, 9, 23), date(2024, 6, 21), "avenant 9; Qare 2025", verified=False),
)


def cap_for(specialty: str | None, on: date) -> Cap:
    """The narrowest cap in force on `on` for this specialty (free text, as in the directory)."""
    wanted = (specialty or "").strip().lower()
    in_force = [c for c in CAPS if c.valid_from <= on and (c.valid_to is None or on <= c.valid_to)]
    for candidate in in_force:
        if candidate.specialties is None or wanted in candidate.specialties:
            return candidate
    raise LookupError(f"no téléconsultation cap known on {on.isoformat()}")
