"""The legal mentions of a drug prescription (CSP R5132-3), one row per mention.

Each rule names the field it checks in the canonical content and the rule it applies;
a prescription that breaks any of them is refused with every broken mention listed
(422, `errors` = [{field, reason}]). The rules read the content that will be signed,
so what is checked is exactly what is printed and verified.

Choices where the text says "when needed" (documented in docs, tell the lead):
- weight is required for a patient under 18 (paediatric doses are per kilogram);
  height is never required but must be plausible when given;
- the number of renewals must be stated, even when it is 0, so a pharmacist never guesses;
- sex must be M or F (the mention is required; "U" counts as missing).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NON_SUBSTITUTION = {
    "MTE": "marge thérapeutique étroite",
    "EFG": "enfant de moins de 6 ans, aucun générique à la forme adaptée",
    "CIF": "contre-indication formelle à un excipient à effet notoire",
}
MAX_RENEWALS = 11  # a prescription covers at most twelve months
WEIGHT_REQUIRED_UNDER = 18
EFG_UNDER = 6

Content = dict[str, Any]


@dataclass(frozen=True)
class Mention:
    scope: str  # prescriber, patient, line, prescription
    field: str
    rule: str
    ok: Callable[[dict[str, Any], Content], bool]


def _filled(key: str) -> Callable[[dict[str, Any], Content], bool]:
    return lambda obj, _: isinstance(obj.get(key), str) and bool(obj[key].strip())


def _minor(content: Content) -> bool:
    age = content["patient"].get("age_years")
    return isinstance(age, int) and age < WEIGHT_REQUIRED_UNDER


def _weight(patient: dict[str, Any], content: Content) -> bool:
    weight = patient.get("weight_kg")
    if weight is None:
        return not _minor(content)
    return isinstance(weight, int | float) and 0.3 <= weight <= 400


def _height(patient: dict[str, Any], _: Content) -> bool:
    height = patient.get("height_cm")
    return height is None or (isinstance(height, int | float) and 20 <= height <= 250)


def _renewals(line: dict[str, Any], _: Content) -> bool:
    value = line.get("renewals")
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_RENEWALS


def _amount(line: dict[str, Any], _: Content) -> bool:
    packs = line.get("packs")
    return any(isinstance(line.get(k), str) and line[k].strip() for k in ("duration", "quantity")) or (
        isinstance(packs, int) and packs > 0
    )


def _non_substitution(line: dict[str, Any], content: Content) -> bool:
    code = line.get("non_substitution")
    if code is None:
        return True
    if code not in NON_SUBSTITUTION:
        return False
    age = content["patient"].get("age_years")
    return code != "EFG" or (isinstance(age, int) and age < EFG_UNDER)


MENTIONS: tuple[Mention, ...] = (
    Mention("prescription", "issued_at", "R5132-3 1° : date de la prescription", _filled("issued_at")),
    Mention(
        "prescriber", "prescriber.family_name", "R5132-3 1° : nom du prescripteur", _filled("family_name")
    ),
    Mention(
        "prescriber", "prescriber.given_names", "R5132-3 1° : prénoms du prescripteur", _filled("given_names")
    ),
    Mention(
        "prescriber",
        "prescriber.qualification",
        "R5132-3 1° : qualité, titre ou spécialité du prescripteur",
        _filled("qualification"),
    ),
    Mention(
        "prescriber",
        "prescriber.rpps",
        "R5132-3 1° : identifiant RPPS du prescripteur (11 chiffres)",
        lambda p, _: bool(re.fullmatch(r"\d{11}", str(p.get("rpps") or ""))),
    ),
    Mention(
        "prescriber",
        "prescriber.address",
        "R5132-3 1° : adresse professionnelle précisant « France » (ville de la première structure)",
        lambda p, _: _filled("address")(p, _) and "France" in p["address"],
    ),
    Mention(
        "prescriber",
        "prescriber.phone",
        "R5132-3 1° : téléphone professionnel avec l'indicatif +33",
        lambda p, _: bool(re.fullmatch(r"\+33 ?[1-9]( ?\d{2}){4}", str(p.get("phone") or ""))),
    ),
    Mention(
        "prescriber",
        "prescriber.email",
        "R5132-3 1° : adresse électronique du prescripteur",
        lambda p, _: bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(p.get("email") or ""))),
    ),
    Mention("patient", "patient.family_name", "R5132-3 6° : nom du patient", _filled("family_name")),
    Mention("patient", "patient.given_names", "R5132-3 6° : prénoms du patient", _filled("given_names")),
    Mention(
        "patient",
        "patient.sex",
        "R5132-3 6° : sexe du patient (M ou F)",
        lambda p, _: p.get("sex") in ("M", "F"),
    ),
    Mention(
        "patient",
        "patient.birth_date",
        "R5132-3 6° : âge ou date de naissance du patient",
        _filled("birth_date"),
    ),
    Mention(
        "patient",
        "patient.weight_kg",
        f"R5132-3 6° : poids lorsque nécessaire (exigé avant {WEIGHT_REQUIRED_UNDER} ans), 0,3 à 400 kg",
        _weight,
    ),
    Mention("patient", "patient.height_cm", "R5132-3 6° : taille plausible (20 à 250 cm)", _height),
    Mention(
        "line",
        "drug",
        "R5132-3 2° : dénomination du médicament ou DCI du principe actif",
        lambda line, c: _filled("drug")(line, c) or _filled("dci")(line, c),
    ),
    Mention("line", "posology", "R5132-3 2° : posologie et mode d'emploi", _filled("posology")),
    Mention("line", "duration", "R5132-3 3° : durée de traitement, quantité ou nombre de boîtes", _amount),
    Mention(
        "line",
        "renewals",
        f"R5132-3 3° : nombre de renouvellements, indiqué même s'il est nul (0 à {MAX_RENEWALS})",
        _renewals,
    ),
    Mention(
        "line",
        "non_substitution",
        "arrêté du 12/11/2019 : « non substituable » avec MTE, EFG (enfant de moins de 6 ans) ou CIF",
        _non_substitution,
    ),
)


def broken_mentions(content: Content) -> list[dict[str, str]]:
    """Every legal mention the content lacks, as [{field, reason}]; empty when complete."""
    errors: list[dict[str, str]] = []
    for mention in MENTIONS:
        if mention.scope == "line":
            for index, line in enumerate(content["lines"]):
                if not mention.ok(line, content):
                    errors.append({"field": f"lines[{index}].{mention.field}", "reason": mention.rule})
            continue
        target = content if mention.scope == "prescription" else content[mention.scope]
        if not mention.ok(target, content):
            errors.append({"field": mention.field, "reason": mention.rule})
    if not content["lines"]:
        errors.append({"field": "lines", "reason": "R5132-3 2° : au moins un médicament prescrit"})
    return errors
