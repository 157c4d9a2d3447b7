"""`telesante demo`: migrate, then load the demo once (a second run changes nothing)."""

import asyncio
import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import service as auth
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.consent import service as consent
from telesante.db import transaction, utcnow
from telesante.demo import data
from telesante.directory.models import Organisation, Professional
from telesante.identifiers.builders import make_finess, make_nir, make_rpps
from telesante.identifiers.systems import INS_NIR_DEMO
from telesante.migrations import upgrade
from telesante.notifications.service import notify
from telesante.patients import service as patients
from telesante.patients.access import access_patient
from telesante.patients.break_glass import open_break_glass
from telesante.patients.models import Patient
from telesante.patients.schemas import CareRelationCreate, Ins, PatientCreate
from telesante.runtime import Runtime
from telesante.settings import Settings
from telesante.timeline.service import add_entry

DEMO_PASSWORD = "Telesante-demo-2026"  # noqa: S105 - demo accounts only, printed on purpose
ADMIN_EMAIL = "admin@demo.telesante.fr"


def email_of(given: str, family: str) -> str:
    from telesante.kit.text import fold

    return f"{fold(given)}.{fold(family)}@demo.telesante.fr".replace(" ", "-")


async def load_demo(settings: Settings, patient_count: int = 36) -> str:
    await asyncio.to_thread(upgrade, settings.sqlalchemy_url)  # alembic runs its own event loop
    runtime = Runtime.create(settings)
    try:
        async with transaction(runtime.sessionmaker) as db:
            if not await db.scalar(select(User.id).where(User.email == ADMIN_EMAIL)):
                await _load(db, patient_count)
            return await _summary(db, settings)
    finally:
        await runtime.close()


async def _load(db: AsyncSession, patient_count: int) -> None:
    rng = random.Random(2026)  # the same demo every time
    organisations = {}
    for index, (key, name, kind, department, city) in enumerate(data.ORGANISATIONS, start=1):
        organisation = Organisation(
            name=name, kind=kind, city=city, finess=make_finess(department, 1000 + index)
        )
        db.add(organisation)
        organisations[key] = organisation
    professionals = {}
    for index, (key, given, family, profession, specialty, orgs) in enumerate(data.PROFESSIONALS, start=1):
        professional = Professional(
            rpps=make_rpps(index * 7919),
            given_name=given,
            family_name=family,
            profession=profession,
            specialty=specialty,
            email=email_of(given, family),
        )
        professional.organisations = [organisations[o] for o in orgs]
        db.add(professional)
        professionals[key] = professional
    await db.flush()
    await auth.create_user(db, email=ADMIN_EMAIL, password=DEMO_PASSWORD, role="admin")
    accounts = {}
    for key, professional in professionals.items():
        accounts[key] = await auth.create_user(
            db,
            email=professional.email or "",
            password=DEMO_PASSWORD,
            role="professional",
            professional_id=professional.id,
        )
    await _load_patients(db, rng, patient_count, professionals, accounts)


async def _load_patients(
    db: AsyncSession,
    rng: random.Random,
    count: int,
    professionals: dict[str, Professional],
    accounts: dict[str, User],
) -> None:
    gp = Actor(user=accounts["martin"], mfa_passed=True, via="system")
    for index in range(count):
        sex = "F" if index % 2 == 0 else "M"
        given = rng.choice(data.GIVEN_F if sex == "F" else data.GIVEN_M)
        birth = date(1938, 1, 1) + timedelta(days=rng.randrange(0, 365 * 80))
        department, commune, insee = data.BIRTH_PLACES[index % len(data.BIRTH_PLACES)]
        status = data.STATUSES[index % len(data.STATUSES)]
        nir = make_nir(sex, birth, department, commune, order=100 + index)
        patient = await patients.create_patient(
            db,
            gp,
            PatientCreate(
                ins=None if status == "PROV" else Ins(matricule=nir, oid=INS_NIR_DEMO),
                identity_status=status,
                birth_family_name=data.FAMILY_NAMES[index % len(data.FAMILY_NAMES)],
                birth_given_names=given,
                sex=sex,
                birth_date=birth,
                birth_place_code=insee,
                phone="+33 6 " + " ".join(str(rng.randrange(10, 99)) for _ in range(4)),
                gp_of_record_id=professionals["martin"].id,
            ),
            allow_test_identities=True,
        )
        if index % 3 == 0:
            await patients.add_care_relation(
                db,
                gp,
                patient,
                CareRelationCreate(professional_id=professionals["petit"].id, reason="care_team"),
            )
        if index % 5 == 0:
            await patients.add_care_relation(
                db,
                gp,
                patient,
                CareRelationCreate(professional_id=professionals["benali"].id, reason="care_team"),
            )
        for days_ago, (kind, title, summary) in zip((200, 90, 12), data.NOTES[: 1 + index % 3], strict=False):
            add_entry(
                db,
                patient.id,
                kind=kind,
                title=title,
                summary=summary,
                occurred_at=utcnow() - timedelta(days=days_ago),
                author_professional_id=professionals["martin"].id,
            )
        await _consents(db, gp, patient, index)
        if index < 2:
            await auth.create_user(
                db,
                email=f"patient{index + 1}@demo.telesante.fr",
                password=DEMO_PASSWORD,
                role="patient",
                patient_id=patient.id,
            )
        if index == 0:
            await _emergency_access(db, accounts["dupuis"], patient)
    await notify(
        db,
        None,
        accounts["martin"].id,
        "Bienvenue sur Telesante",
        "Vos patients et leur historique sont accessibles depuis l'accueil.",
        email=False,
    )


async def _consents(db: AsyncSession, gp: Actor, patient: Patient, index: int) -> None:
    """Most patients agreed to téléconsultation; some to télésurveillance; one refused it."""
    acts = ["teleconsultation"] + (["telemonitoring"] if index % 4 == 0 else [])
    for act in acts:
        decision = "refused" if index == 8 and act == "teleconsultation" else "granted"
        await consent.record_consent(
            db,
            gp,
            patient,
            consent.ConsentCreate(
                act=act, decision=decision, method="in_person", information=data.CONSENT_INFORMATION[act]
            ),
        )


async def _emergency_access(db: AsyncSession, regulator: User, patient: Patient) -> None:
    """The SAMU doctor opened patient1's record in an emergency: they see it in their access log."""
    actor = Actor(user=regulator, mfa_passed=True, via="system")
    await open_break_glass(
        db,
        None,
        actor,
        patient.ins_matricule or "",
        patient.birth_date,
        "Appel au 15 pour malaise, recherche des traitements en cours",
    )
    await access_patient(db, actor, patient.id)


async def _summary(db: AsyncSession, settings: Settings) -> str:
    users = list(await db.scalars(select(User).order_by(User.role, User.email)))
    lines = [
        f"Telesante demo ready: {settings.base_url}/",
        f"Password of every demo account: {DEMO_PASSWORD}",
        "Professionals enrol their TOTP authenticator at first login (QR code).",
        "Accounts:",
    ]
    lines += [f"  {u.role:<13} {u.email}" for u in users]
    return "\n".join(lines)
