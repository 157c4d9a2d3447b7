"""The file's states (Hub `etat`) and the mission's statuses (RS-SR): every move, legal or not."""

import pytest

from telesante.errors import Conflict
from telesante.regulation.states import check_case_move, check_status_move

CASE_MOVES = [
    ("PROGRAM", "ACTIF", True),
    ("ACTIF", "ACHEVE", True),
    ("ACHEVE", "VALIDE", True),
    ("ACHEVE", "ACTIF", True),  # a new decision reopens it
    ("VALIDE", "CLOTURE", True),
    ("CLOTURE", "CLASSE", True),
    ("CLASSE", "ARCHIVE", True),
    ("ACTIF", "VALIDE", False),  # finished first
    ("ACTIF", "CLOTURE", False),
    ("VALIDE", "ACTIF", False),
    ("CLOTURE", "ACTIF", False),
    ("ARCHIVE", "CLASSE", False),
    ("ACTIF", "ACTIF", False),
    ("ACTIF", "OUVERT", False),  # not a state
]


@pytest.mark.parametrize(("current", "target", "legal"), CASE_MOVES)
def test_case_moves(current: str, target: str, legal: bool) -> None:
    if legal:
        assert check_case_move(current, target) == target
    else:
        with pytest.raises(Conflict):
            check_case_move(current, target)


STATUS_MOVES = [
    ("DECLENCHE", "DEPART", True),
    ("DEPART", "ARRIVEE", True),
    ("ARRIVEE", "PEC", True),
    ("PEC", "BILAN", True),
    ("BILAN", "TRANSP", True),  # no separate orientation status
    ("TRANSP", "DESTIN", True),
    ("PEC", "FINPEC", True),  # left at home: no transport
    ("FINPEC", "RETOUR", True),
    ("RETOUR", "RET-BASE", True),
    ("DECLENCHE", "ANNULE", True),
    ("DEPART", "ANNULE", True),
    ("ARRIVEE", "ANNULE", False),  # on scene: no longer cancelled
    ("PEC", "DEPART", False),  # never backwards
    ("DEPART", "DEPART", False),
    ("RET-BASE", "DEPART", False),  # over
    ("ANNULE", "DEPART", False),
    ("DEPART", "EN-ROUTE", False),  # not a Hub status
]


@pytest.mark.parametrize(("current", "target", "legal"), STATUS_MOVES)
def test_status_moves(current: str, target: str, legal: bool) -> None:
    if legal:
        assert check_status_move(current, target) == target
    else:
        with pytest.raises(Conflict):
            check_status_move(current, target)
