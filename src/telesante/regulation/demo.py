"""The SAMU 69 room in the demo: Nadia Haddad (ARM), Dr Dupuis (urgentist) and Dr Martin (GP on the
SAS line) on duty, the centre's resources, files waiting in the queue at every priority, one being
regulated with its ambulance on the way, a P0 whose SMUR left by reflex, and a call ringing.

`load_regulation_demo(db)` runs inside the demo's transaction, after the directory is loaded.
"""

from datetime import timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from telesante.auth.actor import Actor
from telesante.auth.models import User
from telesante.db import utcnow
from telesante.directory.models import Organisation
from telesante.prescriptions.signing import load_signer
from telesante.regulation import decisions, files, missions
from telesante.regulation.codes import Function
from telesante.regulation.models import RegulationCall, RegulationStaff, Resource
from telesante.regulation.schemas import DecisionIn, FileOpen
from telesante.regulation.simulation import calls
from telesante.regulation.staff import Member
from telesante.settings import get_settings

ON_DUTY = [
    ("nadia.haddad@demo.telesante.fr", Function.ARM),
    ("jean.dupuis@demo.telesante.fr", Function.MRU),
    ("claire.martin@demo.telesante.fr", Function.MRL),
]
RESOURCES = [
    # name, type, vehicle, team level, base, latitude, longitude
    ("SMUR Lyon Nord – VLM 1", "SMUR", "SMUR.VLM", "MED", "Hôpital de la Croix-Rousse", 45.7943, 4.8277),
    ("SMUR Lyon Sud – UMH 2", "SMUR", "SMUR.AR", "MED", "Centre hospitalier Lyon Sud", 45.6980, 4.8130),
    ("Hélicoptère SMUR 69", "SMUR", "SMUR.HELISMUR", "MED", "Hôpital Édouard-Herriot", 45.7420, 4.8820),
    ("Ambulances du Rhône – A12", "TSU", "TSU.AMB", "PARAMED", "Villeurbanne", 45.7660, 4.8800),
    ("Ambulances Bellecour – A3", "TSU", "TSU.AMB", "PARAMED", "Lyon 2e", 45.7578, 4.8320),
    ("Ambulances des Monts d'Or – A7", "TSU", "TSU.AMB", "PARAMED", "Caluire-et-Cuire", 45.7950, 4.8460),
    ("VSAV Lyon Corneille", "SIS", "SIS.VSAV", "SECOURS", "Caserne Corneille", 45.7640, 4.8490),
    ("VSAV Vénissieux", "SIS", "SIS.VSAV", "SECOURS", "Caserne de Vénissieux", 45.6970, 4.8860),
    ("SOS Médecins Lyon", "LIBERAL", "LIBERAL.SOS", "MED", "Lyon 3e", 45.7600, 4.8550),
    ("Médecin de garde – secteur Est", "LIBERAL", "LIBERAL.MG", "MED", "Bron", 45.7380, 4.9130),
]


async def load_regulation_demo(db: AsyncSession) -> None:
    centre = await db.scalar(select(Organisation).where(Organisation.kind == "samu"))
    if centre is None or await db.scalar(select(exists().where(RegulationStaff.centre_id == centre.id))):
        return
    members: dict[Function, Member] = {}
    for email, function in ON_DUTY:
        user = await db.scalar(select(User).where(User.email == email))
        assert user is not None and user.professional_id is not None
        db.add(RegulationStaff(centre_id=centre.id, professional_id=user.professional_id, function=function))
        members[function] = Member(Actor(user=user, mfa_passed=True, via="system"), centre.id, function)
    for name, kind, vehicle, level, base, latitude, longitude in RESOURCES:
        db.add(
            Resource(
                centre_id=centre.id,
                name=name,
                resource_type=kind,
                vehicle_type=vehicle,
                team_level=level,
                base=base,
                latitude=latitude,
                longitude=longitude,
                phone="04 72 00 00 00",
            )
        )
    await db.flush()
    now = utcnow()
    arm, urgentist = members[Function.ARM], members[Function.MRU]
    # Calls of the last quarter of an hour, as simulation.py makes them: they wait in the queue.
    for call in calls(rate_per_minute=0.6, duration=timedelta(minutes=15), seed="2"):
        received = now - timedelta(minutes=15) + timedelta(seconds=call.offset)
        await files.open_file(
            db,
            None,
            arm,
            FileOpen(
                origin=call.line,
                priority=call.priority,
                perimeter=call.perimeter,
                motive=call.motive,
                whats_happen=call.whats_happen,
                caller_type=call.caller_type,
                city=call.city,
                latitude=call.latitude,
                longitude=call.longitude,
                patient_age=call.patient_age,
                patient_sex=call.patient_sex,
                caller_phone=call.caller_number,
            ),
            now=received,
        )
    # A chest pain Dr Dupuis regulates: an ambulance is on its way.
    chest = await files.open_file(
        db,
        None,
        arm,
        FileOpen(
            priority="P1",
            motive="Douleur thoracique",
            whats_happen="Douleur constrictive depuis 30 minutes",
            caller_type="FAMILLE",
            address="14 rue de la République",
            city="Lyon",
            latitude=45.7620,
            longitude=4.8360,
            access_details="Interphone « Moulin », 4e étage avec ascenseur",
            patient_age=67,
            patient_sex="M",
        ),
        now=now - timedelta(minutes=9),
    )
    await files.take(db, None, urgentist, chest)
    await files.add_note(
        db, None, urgentist, chest, "Antécédent d'angor, douleur non calmée par la trinitrine."
    )
    await files.set_care_level(db, None, urgentist, chest, "R2")
    ambulance = await db.scalar(select(Resource).where(Resource.name == "Ambulances Bellecour – A3"))
    assert ambulance is not None
    inter = DecisionIn(kind="INTER", resource_id=ambulance.id, details="Ambulance pour bilan et ECG")
    await decisions.decide(db, None, urgentist, chest, inter, load_signer(get_settings()))
    [(mission, _, _)] = await missions.missions_of(db, chest.id)
    await missions.set_status(db, None, mission, "DEPART", by="crew", now=now - timedelta(minutes=6))
    # A cardiac arrest: the SMUR left by reflex before any regulator saw the file.
    await files.open_file(
        db,
        None,
        arm,
        FileOpen(
            priority="P0",
            motive="Arrêt cardio-respiratoire",
            whats_happen="Homme effondré, massage en cours",
            caller_type="TIERS",
            address="Place Bellecour",
            city="Lyon",
            latitude=45.7578,
            longitude=4.8320,
            patient_sex="M",
        ),
        now=now - timedelta(seconds=40),
    )
    # The phone rings.
    db.add(
        RegulationCall(
            centre_id=centre.id,
            external_id="demo-ringing-1",
            line="15",
            caller_number="0611223344",
            state="ringing",
            received_at=now - timedelta(seconds=12),
        )
    )
    await db.flush()
