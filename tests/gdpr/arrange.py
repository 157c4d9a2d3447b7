"""A patient with a full record: care team, timeline with free text, consent, document, accesses."""

import hashlib
from dataclasses import dataclass

from httpx import AsyncClient

from telesante.consent.models import Consent
from telesante.db import commit, utcnow
from telesante.documents.models import Document
from telesante.patients.models import Patient
from telesante.runtime import Runtime
from telesante.timeline.service import add_entry
from tests.fixtures.world import Person, World

SUMMARY = "Douleur thoracique atypique chez Mme Ysolde Quenouille, ECG normal."
DOCUMENT_BYTES = b"%PDF-1.4 compte rendu de Ysolde Quenouille"


@dataclass
class Record:
    doctor: Person
    patient: Person

    @property
    def record(self) -> Patient:
        assert self.patient.patient is not None
        return self.patient.patient


async def full_record(world: World, runtime: Runtime, client: AsyncClient) -> Record:
    doctor = await world.professional(family="Lenormand")
    person = await world.patient(doctor, family="Quenouille", given="Ysolde", with_account=True)
    assert isinstance(person, Person) and person.patient and doctor.professional
    patient_id = person.patient.id
    now = utcnow()
    async with runtime.sessionmaker() as db:
        add_entry(
            db,
            patient_id,
            kind="teleconsultation",
            title="Téléconsultation",
            summary=SUMMARY,
            author_professional_id=doctor.professional.id,
        )
        db.add(
            Consent(
                patient_id=patient_id,
                act="teleconsultation",
                decision="granted",
                method="in_app",
                information="Information sur la téléconsultation délivrée.",
                recorded_by_user_id=doctor.user.id,
                recorded_at=now,
            )
        )
        db.add(
            Document(
                patient_id=patient_id,
                uploaded_by_user_id=doctor.user.id,
                filename="compte-rendu.pdf",
                content_type="application/pdf",
                size=len(DOCUMENT_BYTES),
                sha256=hashlib.sha256(DOCUMENT_BYTES).hexdigest(),
                content=DOCUMENT_BYTES,
            )
        )
        await commit(db)
    # The doctor reads the record; a stranger is refused: both must show in the access log.
    assert (await client.get(f"/api/patients/{patient_id}", headers=doctor.headers)).status_code == 200
    stranger = await world.professional(family="Intrus")
    assert (await client.get(f"/api/patients/{patient_id}", headers=stranger.headers)).status_code == 404
    return Record(doctor, person)
