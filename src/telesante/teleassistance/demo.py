"""Téléassistance in the demo: Julie Petit (nurse, at patient2's home) has just redone a leg ulcer
dressing guided by Dr Benali (dermatologist): the checklist ticked, an annotated still of the
wound, the report on the patient's timeline.

`load_teleassistance_demo(db)` runs inside the demo's transaction, after its patients exist.
"""

import io

from PIL import Image, ImageDraw
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.consent import service as consent
from telesante.db import utcnow
from telesante.patients.access import access_patient
from telesante.patients.models import CareRelation
from telesante.teleassistance import service
from telesante.teleassistance.models import AssistanceSession
from telesante.teleassistance.schemas import Mark, StartIn

NURSE = "julie.petit@demo.telesante.fr"
DOCTOR = "karim.benali@demo.telesante.fr"
PATIENT = "patient2@demo.telesante.fr"
INFORMATION = (
    "Pendant un soin à domicile, l'infirmière peut être guidée en vidéo par un médecin, qui voit la plaie "
    "par la caméra et peut capturer des images versées à votre dossier."
)


async def load_teleassistance_demo(db: AsyncSession) -> None:
    users = {
        u.email: u for u in await db.scalars(select(User).where(User.email.in_([NURSE, DOCTOR, PATIENT])))
    }
    if len(users) < 3 or await db.scalar(select(exists().where(AssistanceSession.id.is_not(None)))):
        return
    nurse, doctor = (Actor(user=users[e], mfa_passed=True, via="system") for e in (NURSE, DOCTOR))
    patient_id = users[PATIENT].patient_id
    assert patient_id and nurse.professional_id and doctor.professional_id
    db.add(
        CareRelation(
            patient_id=patient_id,
            professional_id=nurse.professional_id,
            reason="care_team",
            starts_at=utcnow(),
            created_by_user_id=nurse.user.id,
        )
    )
    await db.flush()
    patient = await access_patient(db, nurse, patient_id)
    await consent.record_consent(
        db,
        nurse,
        patient,
        consent.ConsentCreate(act="teleassistance", method="in_person", information=INFORMATION),
    )
    start = StartIn(
        patient_id=patient_id,
        act="Réfection du pansement d'un ulcère veineux de jambe",
        doctor_id=doctor.professional_id,
    )
    session = await service.start(db, None, nurse, start)
    await service.accept(db, None, doctor, session)
    steps = await service.pick_checklist(db, doctor, session, "pansement-complexe")
    for step in steps:
        await service.tick(db, nurse, session, step.position)
    marks = [
        Mark(type="circle", points=[[0.52, 0.5], [0.64, 0.5]], color="#ff3b30"),
        Mark(type="text", points=[[0.66, 0.36]], text="fibrine à détersion"),
    ]
    await service.capture(db, doctor, session, _wound(), "image/png", "camera", marks)
    service.add_incident(session, "relay")
    await service.end(db, doctor, session)


def _wound() -> bytes:
    """A drawn picture of a wound on skin, with the doctor's circle burnt in as sent."""
    image = Image.new("RGB", (640, 480), (224, 172, 140))
    draw = ImageDraw.Draw(image)
    draw.ellipse((250, 180, 420, 300), fill=(170, 60, 60))
    draw.ellipse((300, 215, 360, 260), fill=(220, 200, 120))
    draw.ellipse((256, 164, 410, 316), outline=(255, 59, 48), width=5)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
