"""The room's code lists, with their French labels (regulation.md, Hub Santé nomenclatures).

Kept as data so that a nomenclature update is an edit here, not in the services.
"""

from enum import StrEnum


class Function(StrEnum):
    """What a member of the room does (regulation.md §1)."""

    ARM = "arm"  # assistant de régulation médicale
    MRU = "mru"  # médecin régulateur urgentiste (AMU line)
    MRL = "mrl"  # médecin régulateur libéral (SAS, SNP line)
    OSNP = "osnp"  # opérateur de soins non programmés
    SUPERVISOR = "supervisor"


REGULATORS = frozenset({Function.MRU, Function.MRL})
FUNCTION_LABELS = {
    Function.ARM: "ARM",
    Function.MRU: "Médecin régulateur urgentiste",
    Function.MRL: "Médecin régulateur libéral (SAS)",
    Function.OSNP: "OSNP",
    Function.SUPERVISOR: "Superviseur",
}
# The Hub operator role of each function (RS-EDA medicalNote.operator.role).
HUB_ROLES = {
    Function.ARM: "ARM",
    Function.MRU: "MEDECIN",
    Function.MRL: "MEDECIN",
    Function.OSNP: "AUTRE",
    Function.SUPERVISOR: "AUTRE",
}

PERIMETERS = {"AMU": "Aide médicale urgente", "SNP": "Soins non programmés (SAS)"}

# ARM priority P (guide de régulation: P0 vital, reflex resources at once).
PRIORITIES = {
    "P0": "P0 – urgence vitale, moyens réflexes",
    "P1": "P1 – régulation immédiate",
    "P2": "P2 – régulation non urgente",
    "P3": "P3 – régulation différée",
    "NR": "NR – pas d'acte de régulation",
}
PRIORITY_ORDER = {code: rank for rank, code in enumerate(PRIORITIES)}
# How long a file may wait for a regulator before it is highlighted and escalated. The guides
# give no national figure (regulation.md: "numeric target delays per P: unverified"): these are
# the room's own settings, the supervisor's to change.
WAIT_LIMITS_SECONDS = {"P0": 60, "P1": 120, "P2": 900, "P3": 3600}
ESCALATING = frozenset({"P0", "P1"})

# Regulator's care level R (Hub `niveauSoin`).
CARE_LEVELS = {
    "R1": "R1 – urgence vitale, SMUR",
    "R2": "R2 – urgence vraie sans détresse vitale",
    "R3": "R3 – continuité des soins",
    "R4": "R4 – conseil ou prescription médicamenteuse par téléphone",
}

DECISIONS = {
    "CONSEIL": "Conseil médical",
    "PMT": "Prescription médicamenteuse par téléphone",
    "INTER": "Envoi d'un moyen",
    "ORIENT": "Orientation et transport",
    "PASPLUS": "Pas d'autre action (d'autres agissent déjà)",
}
ORIENTATIONS = {
    "URGENCES": "Service d'urgences",
    "REA-USI": "Réanimation / soins intensifs",
    "SANTE": "Autre service de soins",
    "CABINET": "Cabinet médical",
    "DOMICILE": "Maintien à domicile",
    "EPHAD": "EHPAD",
    "AUTRE": "Autre",
}

CALLER_TYPES = {
    "SUJET": "Le patient lui-même",
    "FAMILLE": "Un proche",
    "TIERS": "Un tiers",
    "PROFSANTE": "Un professionnel de santé",
    "AUTRE": "Autre",
}
SEXES = {"M": "Homme", "F": "Femme", "O": "Autre", "UN": "Inconnu"}

VEHICLE_TYPES = {
    "SMUR.VLM": "SMUR – véhicule léger médicalisé",
    "SMUR.AR": "SMUR – ambulance de réanimation",
    "SMUR.HELISMUR": "Hélicoptère SMUR",
    "TSU.AMB": "Ambulance",
    "TSU.VSL": "VSL",
    "SIS.VSAV": "VSAV (pompiers)",
    "LIBERAL.MG": "Médecin généraliste de garde",
    "LIBERAL.SOS": "SOS Médecins",
    "LIBERAL.MMG": "Maison médicale de garde",
}
# The reflex departure a P0 triggers before any regulator has seen the file.
REFLEX_VEHICLES = ("SMUR.VLM", "SMUR.AR", "SIS.VSAV")
