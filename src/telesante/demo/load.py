"""`telesante demo`: migrate, then load the demo once (a second run changes nothing)."""

import asyncio
import random
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth import service as auth
from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.billing.models import ActivityDeclaration
from telesante.billing.service import bill_teleconsultation
from telesante.consent import service as consent
from telesante.db import transaction, utcnow
from telesante.demo import data
from telesante.directory.models import Organisation, Professional
from telesante.identifiers.builders import make_finess, make_nir, make_rpps
from telesante.identifiers.systems import INS_NIR_DEMO
from telesante.migrations import upgrade
from telesante.monitoring.demo import load_monitoring_demo
from telesante.notifications.service import notify
from telesante.patients import service as patients
from telesante.patients.access import access_patient
from telesante.patients.break_glass import open_break_glass
from telesante.patients.models import CareRelation, Patient
from telesante.patients.schemas import CareRelationCreate, Ins, PatientCreate
from telesante.prescriptions.schemas import LineIn, PrescriptionCreate
from telesante.prescriptions.service import create_prescription
from telesante.prescriptions.signing import load_signer
from telesante.regulation.demo import load_regulation_demo
from telesante.runtime import Runtime
from telesante.settings import Settings, get_settings
from telesante.teleassistance.demo import load_teleassistance_demo
from telesante.teleconsultation import report
from telesante.teleconsultation.models import Appointment, ConsultationType, OpeningHours
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
            phone=f"+33 1 40 00 {index:02d} {index * 7 % 100:02d}",
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
    await _agendas(db, professionals)
    await _yesterday(db, accounts["martin"], professionals["martin"])
    await _prescription(db, accounts["martin"])
    await load_monitoring_demo(db)
    await load_regulation_demo(db)
    await load_teleassistance_demo(db)


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


async def _agendas(db: AsyncSession, professionals: dict[str, Professional]) -> None:
    """Opening hours and consultation types, and today's téléconsultations for Dr Martin: patient1's
    in a few minutes (so the waiting room is open), one patient already waiting, more later today."""
    for key, specialty_type in (
        ("martin", ("Téléconsultation", 15, "TCG")),
        ("benali", ("Téléexamen cutané", 20, "TC")),
        ("lefevre", ("Suivi cardiologique", 20, "TC")),
    ):
        professional = professionals[key]
        for weekday in range(6):
            for opens, closes in data.OPENING_HOURS[weekday]:
                db.add(
                    OpeningHours(professional_id=professional.id, weekday=weekday, opens=opens, closes=closes)
                )
        label, minutes, code = specialty_type
        db.add(
            ConsultationType(
                professional_id=professional.id,
                label=label,
                duration_minutes=minutes,
                billing_code=code,
                video=True,
                cancel_notice_hours=2,
            )
        )
    await db.flush()
    martin = professionals["martin"]
    kind = await db.scalar(select(ConsultationType).where(ConsultationType.professional_id == martin.id))
    assert kind is not None
    patients_of_martin = list(
        await db.scalars(
            select(Patient).where(Patient.gp_of_record_id == martin.id).order_by(Patient.search_name).limit(6)
        )
    )
    first = await db.scalar(select(User.patient_id).where(User.email == "patient1@demo.telesante.fr"))
    ordered = sorted(patients_of_martin, key=lambda p: p.id != first)
    now = utcnow().replace(second=0, microsecond=0)
    for index, patient in enumerate(ordered):
        start = now + timedelta(minutes=8 + 30 * index)
        status = "waiting" if index == 1 else "booked"
        if index == 1:
            start = now - timedelta(minutes=2)
        db.add(
            Appointment(
                professional_id=martin.id,
                patient_id=patient.id,
                consultation_type_id=kind.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=15),
                status=status,
                reason="Suivi",
                booked_by_user_id=martin.id,
                incidents=[],
                waiting_since=now - timedelta(minutes=3) if status == "waiting" else None,
            )
        )
        db.add(
            CareRelation(
                patient_id=patient.id,
                professional_id=martin.id,
                reason="act",
                starts_at=now,
                ends_at=start + timedelta(days=7),
                created_by_user_id=None,
            )
        )


async def _yesterday(db: AsyncSession, gp_user: User, gp: Professional) -> None:
    """Yesterday's held téléconsultation: a reconnection during the call, a signed compte rendu,
    its billing line; and Dr Martin's declared in-person activity, so /facturation shows a share."""
    patient = await db.scalar(
        select(Patient)
        .where(Patient.gp_of_record_id == gp.id)
        .order_by(Patient.search_name)
        .offset(6)
        .limit(1)
    )
    kind = await db.scalar(select(ConsultationType).where(ConsultationType.professional_id == gp.id))
    assert patient is not None and kind is not None
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    held = Appointment(
        professional_id=gp.id,
        patient_id=patient.id,
        consultation_type_id=kind.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=15),
        status="done",
        reason="Renouvellement du traitement de l'hypertension",
        booked_by_user_id=gp_user.id,
        admitted_at=start + timedelta(minutes=1),
        ended_at=start + timedelta(minutes=13),
        incidents=[
            {
                "kind": "reconnection",
                "detail": "connexion du patient perdue 6 s, rétablie",
                "role": "patient",
                "at": (start + timedelta(minutes=5)).isoformat(),
            }
        ],
    )
    db.add(held)
    await db.flush()
    actor = Actor(user=gp_user, mfa_passed=True, via="system")
    await report.save_draft(db, actor, held, report.ReportSections(**report.TEMPLATES["renouvellement"]))
    await report.sign(db, None, actor, held)
    await bill_teleconsultation(db, held)
    this_month = start.date().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    for month, acts in ((last_month, 96), (this_month, 71)):
        db.add(ActivityDeclaration(professional_id=gp.id, month=month.strftime("%Y-%m"), in_person_acts=acts))


async def _prescription(db: AsyncSession, gp_user: User) -> str:
    """A signed e-prescription for patient1, for the demo pharmacist to verify and dispense."""
    patient_id = await db.scalar(select(User.patient_id).where(User.email == "patient1@demo.telesante.fr"))
    line = LineIn(
        dci="paracétamol",
        drug="Paracétamol",
        dose="1 g",
        form="comprimé",
        posology="1 comprimé toutes les 6 heures si douleur, 4 par jour au plus",
        duration="5 jours",
        quantity="20 comprimés",
        packs=2,
        renewals=1,
    )
    actor = Actor(user=gp_user, mfa_passed=True, via="system")
    created, _ = await create_prescription(
        db,
        actor,
        PrescriptionCreate(patient_id=patient_id or "", patient_weight_kg=62, lines=[line]),
        load_signer(get_settings()),
    )
    return created.public_id


async def _latest_prescription(db: AsyncSession) -> str:
    from telesante.prescriptions.models import Prescription

    return str(
        await db.scalar(select(Prescription.public_id).order_by(Prescription.issued_at.desc()).limit(1))
    )


async def _summary(db: AsyncSession, settings: Settings) -> str:
    users = list(await db.scalars(select(User).order_by(User.role, User.email)))
    lines = [
        f"Telesante demo ready: {settings.base_url}/",
        f"Password of every demo account: {DEMO_PASSWORD}",
        "Professionals enrol their TOTP authenticator at first login (QR code).",
        "Patients get a one-time code by e-mail; without SMTP it is written in this server's log.",
        "Today: Dr Claire Martin has téléconsultations, one patient already in her waiting room;",
        "patient1 has one in a few minutes (Téléconsultations > Entrer en salle d'attente).",
        "Yesterday's téléconsultation has its signed compte rendu (with a reconnection incident);",
        "Facturation shows Dr Martin's lines and her téléconsultation share against the 20 % cap.",
        "Télésurveillance: four of Dr Martin's patients send 14 days of CGM, weight and blood pressure;",
        "open alerts wait on /telesurveillance (a night-time severe hypoglycaemia, a weight gain).",
        "The pharmacist marc.roux@demo.telesante.fr verifies and dispenses patient1's e-prescription",
        f"at /pharmacie (number {await _latest_prescription(db)}).",
        "Accounts:",
    ]
    lines += [f"  {u.role:<13} {u.email}" for u in users]
    return "\n".join(lines)
