"""Whether a téléconsultation is reimbursed, and under which code (acts.md, billing.md).

- Video is mandatory: a phone call is not a reimbursable téléconsultation.
- Parcours de soins: the médecin traitant, or a patient referred by them; out of the pathway a
  téléconsultation is not reimbursed at all.
- Known patient: seen in person in the previous 12 months.
- Exceptions to both: direct-access specialties (gynécologie, ophtalmologie, stomatologie,
  chirurgie orale et maxillo-faciale, psychiatrie, neuropsychiatrie, pédiatrie), under 16,
  emergency, no médecin traitant or one unavailable in time, detainees, residents of an EHPAD
  or adult disability home.
"""

from dataclasses import dataclass, field
from datetime import date

from telesante.billing.tariffs import tariff

DIRECT_ACCESS = frozenset(
    {
        "gynécologie",
        "gynécologie médicale",
        "gynécologie obstétrique",
        "ophtalmologie",
        "stomatologie",
        "chirurgie orale",
        "chirurgie maxillo-faciale",
        "psychiatrie",
        "neuropsychiatrie",
        "pédiatrie",
    }
)
GENERAL_PRACTICE = frozenset({"médecine générale"})
# The parcours rule's reason when the professional is the patient's médecin traitant. Stored on the
# billing line, it also tells the activity cap to leave the act out (share.py).
BY_GP_OF_RECORD = "médecin traitant"


@dataclass(frozen=True)
class Facts:
    on: date
    video_held: bool
    specialty: str | None
    is_gp_of_record: bool
    referred_by_gp: bool
    has_gp: bool
    patient_age: int
    known_patient: bool  # seen in person by this professional in the last 12 months
    emergency: bool = False
    detainee: bool = False
    care_home_resident: bool = False


@dataclass(frozen=True)
class Rule:
    name: str
    ok: bool
    why: str


@dataclass
class Assessment:
    code: str
    amount_cents: int
    reimbursable: bool
    rules: list[Rule] = field(default_factory=list)
    tariff_verified: bool = True


def exception_applies(facts: Facts) -> str | None:
    specialty = (facts.specialty or "").strip().lower()
    reasons = [
        (specialty in DIRECT_ACCESS, f"spécialité en accès direct ({specialty})"),
        (facts.patient_age < 16, "patient de moins de 16 ans"),
        (facts.emergency, "urgence"),
        (not facts.has_gp, "patient sans médecin traitant"),
        (facts.detainee, "personne détenue"),
        (facts.care_home_resident, "résident d'EHPAD ou d'établissement pour adultes handicapés"),
    ]
    return next((why for applies, why in reasons if applies), None)


def assess(facts: Facts) -> Assessment:
    exception = exception_applies(facts)
    in_pathway = facts.is_gp_of_record or facts.referred_by_gp
    rules = [
        Rule(
            "video",
            facts.video_held,
            "vidéo réalisée" if facts.video_held else "sans vidéo : non remboursable",
        ),
        Rule(
            "parcours",
            in_pathway or exception is not None,
            BY_GP_OF_RECORD
            if facts.is_gp_of_record
            else "adressé par le médecin traitant"
            if facts.referred_by_gp
            else f"exception : {exception}"
            if exception
            else "hors parcours de soins : non remboursé",
        ),
        Rule(
            "known_patient",
            facts.known_patient or exception is not None,
            "patient vu en présentiel dans les 12 mois"
            if facts.known_patient
            else f"exception : {exception}"
            if exception
            else "patient non connu (12 mois) : non remboursé",
        ),
    ]
    code = "TCG" if (facts.specialty or "").strip().lower() in GENERAL_PRACTICE else "TC"
    price = tariff(code, facts.on)
    return Assessment(code, price.amount_cents, all(r.ok for r in rules), rules, price.verified)
