"""The two state machines of the room: the file's (Hub `etat`) and the mission's (RS-SR statuses).

Pure rules, table-tested: services ask `check_*` before they write, and an illegal move is a 409.
"""

from enum import StrEnum

from telesante.errors import Conflict


class CaseState(StrEnum):
    """regulation.md §2: PROGRAM → ACTIF → ACHEVE → VALIDE → CLOTURE → CLASSE → ARCHIVE."""

    PROGRAM = "PROGRAM"  # pre-created (a planned transfer)
    ACTIF = "ACTIF"
    ACHEVE = "ACHEVE"  # every decision carried out
    VALIDE = "VALIDE"  # end of the regulation, by the regulator
    CLOTURE = "CLOTURE"  # automatic, 24 h after validation (durable timer)
    CLASSE = "CLASSE"  # end of the administrative phase
    ARCHIVE = "ARCHIVE"


CASE_MOVES: dict[CaseState, frozenset[CaseState]] = {
    CaseState.PROGRAM: frozenset({CaseState.ACTIF}),
    CaseState.ACTIF: frozenset({CaseState.ACHEVE}),
    # A new decision on a finished file reopens it; validation ends the regulation.
    CaseState.ACHEVE: frozenset({CaseState.ACTIF, CaseState.VALIDE}),
    CaseState.VALIDE: frozenset({CaseState.CLOTURE}),
    CaseState.CLOTURE: frozenset({CaseState.CLASSE}),
    CaseState.CLASSE: frozenset({CaseState.ARCHIVE}),
    CaseState.ARCHIVE: frozenset(),
}
OPEN_STATES = frozenset({CaseState.PROGRAM, CaseState.ACTIF, CaseState.ACHEVE})
CASE_LABELS = {
    CaseState.PROGRAM: "Programmé",
    CaseState.ACTIF: "En cours",
    CaseState.ACHEVE: "Achevé",
    CaseState.VALIDE: "Validé",
    CaseState.CLOTURE: "Clôturé",
    CaseState.CLASSE: "Classé",
    CaseState.ARCHIVE: "Archivé",
}


def check_case_move(current: str, target: str) -> CaseState:
    try:
        wanted = CaseState(target)
    except ValueError:
        raise Conflict(f"état de dossier inconnu : {target}") from None
    if wanted not in CASE_MOVES[CaseState(current)]:
        raise Conflict(
            f"le dossier est « {CASE_LABELS[CaseState(current)]} » : il ne peut pas passer à "
            f"« {CASE_LABELS[wanted]} »"
        )
    return wanted


class Status(StrEnum):
    """A mission's statuses, in the order a mission lives them (Hub RS-SR `status`)."""

    DECISION = "DECISION"
    DECLENCHE = "DECLENCHE"
    DEPART = "DEPART"
    ARRIVEE = "ARRIVEE"
    PEC = "PEC"  # prise en charge of the patient
    BILAN = "BILAN"  # the crew's assessment passed to the regulator
    ORIENTAT = "ORIENTAT"
    TRANSP = "TRANSP"
    DESTIN = "DESTIN"
    FINPEC = "FINPEC"
    RETOUR = "RETOUR"
    RET_BASE = "RET-BASE"
    ANNULE = "ANNULE"


ORDER: list[Status] = [s for s in Status if s is not Status.ANNULE]
STATUS_LABELS = {
    Status.DECISION: "Décidé",
    Status.DECLENCHE: "Déclenché",
    Status.DEPART: "Parti",
    Status.ARRIVEE: "Sur les lieux",
    Status.PEC: "Patient pris en charge",
    Status.BILAN: "Bilan passé",
    Status.ORIENTAT: "Orientation décidée",
    Status.TRANSP: "Transport en cours",
    Status.DESTIN: "Arrivé à destination",
    Status.FINPEC: "Fin de prise en charge",
    Status.RETOUR: "Retour",
    Status.RET_BASE: "Rentré à la base",
    Status.ANNULE: "Annulé",
}
# The resource is free again once the patient is handed over (or the mission cancelled).
FREES_RESOURCE = frozenset({Status.FINPEC, Status.RETOUR, Status.RET_BASE, Status.ANNULE})
ENDS_MISSION = frozenset({Status.RET_BASE, Status.ANNULE})


def check_status_move(current: str, target: str) -> Status:
    """Forward only (a crew may skip a step: no transport, no separate bilan); cancelled only
    before arriving on scene; nothing after the end."""
    try:
        wanted = Status(target)
    except ValueError:
        raise Conflict(f"statut inconnu : {target}") from None
    now = Status(current)
    if now in ENDS_MISSION:
        raise Conflict(f"la mission est terminée ({STATUS_LABELS[now]})")
    if wanted is Status.ANNULE:
        if ORDER.index(now) >= ORDER.index(Status.ARRIVEE):
            raise Conflict("une mission arrivée sur les lieux ne s'annule plus")
        return wanted
    if ORDER.index(wanted) <= ORDER.index(now):
        raise Conflict(f"« {STATUS_LABELS[wanted]} » ne peut pas suivre « {STATUS_LABELS[now]} »")
    return wanted
