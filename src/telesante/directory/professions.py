"""Professions and organisation kinds, with their French labels (GLOSSARY.md)."""

from enum import StrEnum


class Profession(StrEnum):
    physician = "physician"
    midwife = "midwife"
    dentist = "dentist"
    nurse = "nurse"
    pharmacist = "pharmacist"
    psychologist = "psychologist"
    physiotherapist = "physiotherapist"
    call_taker = "call_taker"  # assistant de régulation médicale (ARM)


PROFESSION_LABELS = {
    Profession.physician: "Médecin",
    Profession.midwife: "Sage-femme",
    Profession.dentist: "Chirurgien-dentiste",
    Profession.nurse: "Infirmier",
    Profession.pharmacist: "Pharmacien",
    Profession.psychologist: "Psychologue",
    Profession.physiotherapist: "Masseur-kinésithérapeute",
    Profession.call_taker: "Assistant de régulation médicale",
}

# Only the professions médicales may perform a telemedicine act (CSP L4111-1; acts.md).
MEDICAL_PROFESSIONS = frozenset({Profession.physician, Profession.midwife, Profession.dentist})


def is_medical(profession: str) -> bool:
    return profession in MEDICAL_PROFESSIONS


class OrganisationKind(StrEnum):
    practice = "practice"  # cabinet
    health_centre = "health_centre"  # centre / maison de santé
    hospital = "hospital"
    nursing_home = "nursing_home"  # EHPAD
    pharmacy = "pharmacy"
    samu = "samu"


ORGANISATION_LABELS = {
    OrganisationKind.practice: "Cabinet",
    OrganisationKind.health_centre: "Centre ou maison de santé",
    OrganisationKind.hospital: "Hôpital",
    OrganisationKind.nursing_home: "EHPAD",
    OrganisationKind.pharmacy: "Pharmacie",
    OrganisationKind.samu: "SAMU",
}
