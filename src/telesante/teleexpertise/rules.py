"""Who may ask and who may answer a téléexpertise, and how long the answer may take.

acts.md § Téléexpertise: the requérant is any health professional, the requis a médecin or a
sage-femme (R6316-1). The delays are the platform's commitment, shorter than the convention's
seven days (acts.md "Delay"): 48 h, 4 h when urgent. Reminders fall at half and at nine tenths of
the delay, so they scale with it (24 h and 43 h 12 for 48 h; 2 h and 3 h 36 for 4 h).
"""

from datetime import timedelta

from telesante.directory.professions import Profession

# Every profession of the directory that is a health profession (the ARM is not one).
REQUESTER_PROFESSIONS = frozenset(Profession) - {Profession.call_taker}
EXPERT_PROFESSIONS = frozenset({Profession.physician, Profession.midwife})
# Chosen on 2026-11-23 (issue 7): 48 h by default; 4 h for an urgent request. Not an emergency
# channel (acts.md "Not urgent"): a patient in danger goes to the 15.
DELAYS = {"normal": timedelta(hours=48), "urgent": timedelta(hours=4)}
REMINDER_FRACTIONS = {"half": 0.5, "nine_tenths": 0.9}
MAX_EXPERTS = 5


def may_request(profession: str) -> bool:
    return profession in REQUESTER_PROFESSIONS


def may_answer(profession: str) -> bool:
    return profession in EXPERT_PROFESSIONS
