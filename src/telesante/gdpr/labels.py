"""French labels for what the exports show the patient."""

from telesante.consent.service import ACT_LABELS
from telesante.patients.service import CARE_REASON_LABELS

__all__ = ["ACT_LABELS", "CARE_REASON_LABELS"]

DECISION_LABELS = {"granted": "accordé", "refused": "refusé"}
METHOD_LABELS = {"in_person": "en présence", "in_app": "dans l'application"}

AUDIT_ACTION_LABELS = {
    "read": "consultation",
    "search": "recherche",
    "create": "création",
    "update": "modification",
    "delete": "suppression",
    "export": "export",
    "erasure": "demande d'effacement",
}

OUTCOME_LABELS = {"success": "autorisé", "denied": "refusé"}

SEX_LABELS = {"M": "masculin", "F": "féminin", "U": "inconnu"}
