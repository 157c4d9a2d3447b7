"""A seeded stream of calls to a SAMU centre, for demos and load tests.

The mix is an assumption, not a statistic (regulation.md gives none per priority): most calls
are P2, one in six P1, a few P0; about 40 % go to the GP line (DREES 2025: GP share of regulation
40 %). Arrivals are a Poisson process at the asked rate. The same seed gives the same calls.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

# (priority, perimeter, motive, what happened, weight)
MOTIVES: list[tuple[str, str, str, str, int]] = [
    (
        "P0",
        "AMU",
        "Arrêt cardio-respiratoire",
        "Personne inconsciente qui ne respire plus, massage en cours",
        2,
    ),
    ("P0", "AMU", "Détresse respiratoire majeure", "Ne peut plus parler, lèvres bleues", 1),
    ("P1", "AMU", "Douleur thoracique", "Douleur dans la poitrine depuis 20 minutes, sueurs", 6),
    ("P1", "AMU", "Signes d'AVC", "Bouche déviée, bras droit qui ne répond plus", 4),
    ("P1", "AMU", "Traumatisme grave", "Chute d'un échafaudage, ne se relève pas", 3),
    ("P1", "AMU", "Malaise avec perte de connaissance", "S'est effondré, a repris connaissance", 3),
    ("P2", "AMU", "Chute de la personne âgée", "Chute dans la salle de bain, douleur à la hanche", 8),
    ("P2", "AMU", "Douleur abdominale", "Douleur au ventre depuis ce matin, vomissements", 7),
    ("P2", "SNP", "Fièvre de l'enfant", "Enfant de 3 ans, 39,5 °C depuis hier", 10),
    ("P2", "SNP", "Plaie à suturer", "Coupure de la main en cuisinant, saigne peu", 6),
    ("P2", "SNP", "Lombalgie", "Bloqué du dos depuis ce matin", 5),
    ("P3", "SNP", "Renouvellement de traitement", "Plus de comprimés pour la tension, médecin absent", 6),
    ("P3", "SNP", "Conseil médicamenteux", "Question sur une interaction entre deux médicaments", 5),
    ("NR", "SNP", "Renseignement", "Cherche la pharmacie de garde", 4),
]
LINES = [("15", 70), ("SAS", 20), ("112", 8), ("116117", 2)]
# Around Lyon (the demo's SAMU 69): a box wide enough for the map to show a département.
AREA = ((45.55, 45.95), (4.55, 5.15))
CITIES = ["Lyon", "Villeurbanne", "Vénissieux", "Caluire-et-Cuire", "Bron", "Vaulx-en-Velin", "Oullins"]
CALLERS = [("SUJET", 35), ("FAMILLE", 40), ("TIERS", 20), ("PROFSANTE", 5)]


@dataclass(frozen=True)
class SimulatedCall:
    offset: float  # seconds after the start of the stream
    call_id: str
    line: str
    caller_number: str
    priority: str
    perimeter: str
    motive: str
    whats_happen: str
    caller_type: str
    city: str
    latitude: float
    longitude: float
    patient_age: int
    patient_sex: str

    def at(self, start: datetime) -> datetime:
        return start + timedelta(seconds=self.offset)


def calls(rate_per_minute: float, duration: timedelta, seed: str = "0") -> Iterator[SimulatedCall]:
    rng = random.Random(f"calls:{seed}")
    offset, end, number = 0.0, duration.total_seconds(), 0
    while True:
        offset += rng.expovariate(rate_per_minute / 60)
        if offset >= end:
            return
        number += 1
        yield _call(rng, offset, f"sim-{seed}-{number:06d}")


def _call(rng: random.Random, offset: float, call_id: str) -> SimulatedCall:
    priority, perimeter, motive, happened, _ = rng.choices(MOTIVES, weights=[m[4] for m in MOTIVES])[0]
    line = rng.choices([line for line, _ in LINES], weights=[w for _, w in LINES])[0]
    (south, north), (west, east) = AREA
    return SimulatedCall(
        offset=offset,
        call_id=call_id,
        line="SAS" if perimeter == "SNP" and line == "15" and rng.random() < 0.5 else line,
        caller_number=f"06{rng.randrange(10**8):08d}",
        priority=priority,
        perimeter=perimeter,
        motive=motive,
        whats_happen=happened,
        caller_type=rng.choices([c for c, _ in CALLERS], weights=[w for _, w in CALLERS])[0],
        city=rng.choice(CITIES),
        latitude=round(rng.uniform(south, north), 5),
        longitude=round(rng.uniform(west, east), 5),
        patient_age=rng.choice([rng.randrange(0, 15), rng.randrange(15, 65), rng.randrange(65, 100)]),
        patient_sex=rng.choice(["M", "F"]),
    )
