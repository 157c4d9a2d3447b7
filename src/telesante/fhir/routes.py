from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import ColumnElement, and_, false, select
from sqlalchemy.orm import selectinload

from telesante.audit.access_log import access_log_events
from telesante.audit.service import record
from telesante.consent import service as consent_service
from telesante.deps import CurrentActor, DbSession
from telesante.directory.models import Organisation, Professional, professional_organisations
from telesante.errors import Forbidden, Invalid, NotFound
from telesante.fhir import mapping, reports, scheduling, traces
from telesante.fhir.capability import capability_statement
from telesante.fhir.outcome import FHIR_JSON, FhirResponse
from telesante.identifiers import systems
from telesante.patients.access import NOT_FOUND, access_patient, visible_patients
from telesante.patients.models import Patient
from telesante.patients.service import name_matches
from telesante.teleassistance import fhir as teleassistance_fhir
from telesante.teleconsultation import report as teleconsultation_report
from telesante.teleconsultation.models import Appointment, Report
from telesante.teleconsultation.report_pdf import report_pdf
from telesante.teleconsultation.schedule import slots as agenda_slots
from telesante.teleconsultation.schedule import types_of as teleconsultation_types
from telesante.teleexpertise import fhir_routes as teleexpertise_fhir

router = APIRouter(prefix="/fhir/R4", tags=["fhir"], default_response_class=FhirResponse)
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}} for status in (400, 401, 403, 404)
}
MAX_COUNT = 100


def _count(request: Request) -> int:
    raw = request.query_params.get("_count", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise Invalid.field("_count", f"must be an integer from 1 to {MAX_COUNT}")
    return int(raw)


def _offset(request: Request) -> int:
    raw = request.query_params.get("_offset", "0")
    if not raw.isdigit() or int(raw) > 100_000:
        raise Invalid.field("_offset", "must be an integer from 0 to 100000")
    return int(raw)


def _bundle(request: Request, resources: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + "/fhir/R4"
    next_url = None
    if has_more:
        offset = _offset(request) + _count(request)
        next_url = str(request.url.include_query_params(_offset=offset))
    return mapping.searchset(resources, base, str(request.url), next_url)


def _equals(column: Any, value: str | None) -> ColumnElement[bool]:
    """column = value; nothing matches a value from a system we do not hold."""
    return column == value if value else false()


def _token(value: str, allowed_systems: tuple[str, ...]) -> str | None:
    """`system|value` or `value`; None when the system is one we do not hold."""
    if "|" in value:
        system, _, code = value.partition("|")
        return code if not system or system in allowed_systems else None
    return value


@router.get("/metadata", responses=FHIR_RESPONSES)
async def metadata(request: Request) -> dict[str, Any]:
    """The CapabilityStatement (public, as FHIR requires)."""
    from telesante import __version__

    return capability_statement(str(request.base_url).rstrip("/"), __version__)


@router.get("/Patient/{patient_id}", responses=FHIR_RESPONSES)
async def read_patient(patient_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return mapping.patient_resource(await access_patient(db, actor, patient_id, purpose="care"))


@router.get("/Patient", responses=FHIR_RESPONSES)
async def search_patient(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """Search by `identifier` (system|value), `name`/`family` (prefix), `birthdate`, `_id`."""
    params = request.query_params
    query = select(Patient).where(visible_patients(actor))
    if identifier := params.get("identifier"):
        value = _token(identifier, tuple(systems.INS_TYPE_CODES))
        query = query.where(_equals(Patient.ins_matricule, value and value.replace(" ", "")))
    for name_param in ("name", "family"):
        if name := params.get(name_param):
            query = query.where(name_matches(name))
    if birthdate := params.get("birthdate"):
        query = query.where(Patient.birth_date == _date(birthdate))
    if ident := params.get("_id"):
        query = query.where(Patient.id == ident)
    count, offset = _count(request), _offset(request)
    rows = list(
        await db.scalars(query.order_by(Patient.search_name, Patient.id).limit(count + 1).offset(offset))
    )
    for patient in rows[:count]:
        record(
            db, actor, action="search", resource_type="Patient", resource_id=patient.id, patient_id=patient.id
        )
    return _bundle(request, [mapping.patient_resource(p) for p in rows[:count]], len(rows) > count)


def _date(value: str) -> date:
    value = value.removeprefix("eq")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid.field("birthdate", "expected a date YYYY-MM-DD (optionally prefixed eq)") from None


@router.get("/Practitioner/{practitioner_id}", responses=FHIR_RESPONSES)
async def read_practitioner(practitioner_id: str, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    professional = await db.get(Professional, practitioner_id)
    if professional is None:
        raise NotFound("Practitioner introuvable")
    return mapping.practitioner_resource(professional)


@router.get("/Practitioner", responses=FHIR_RESPONSES)
async def search_practitioner(request: Request, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    params = request.query_params
    query = select(Professional)
    if identifier := params.get("identifier"):
        value = _token(identifier, (systems.RPPS, systems.RPPS_LEGACY))
        query = query.where(_equals(Professional.rpps, value))
    if name := params.get("name"):
        pattern = f"{name.strip()}%"
        query = query.where(Professional.family_name.ilike(pattern) | Professional.given_name.ilike(pattern))
    if ident := params.get("_id"):
        query = query.where(Professional.id == ident)
    count, offset = _count(request), _offset(request)
    rows = list(
        await db.scalars(
            query.order_by(Professional.family_name, Professional.id).limit(count + 1).offset(offset)
        )
    )
    return _bundle(request, [mapping.practitioner_resource(p) for p in rows[:count]], len(rows) > count)


@router.get("/Organization/{organization_id}", responses=FHIR_RESPONSES)
async def read_organization(organization_id: str, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    organisation = await db.get(Organisation, organization_id)
    if organisation is None:
        raise NotFound("Organization introuvable")
    return mapping.organization_resource(organisation)


@router.get("/Organization", responses=FHIR_RESPONSES)
async def search_organization(request: Request, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    params = request.query_params
    query = select(Organisation)
    if identifier := params.get("identifier"):
        value = _token(identifier, (systems.FINESS, systems.FINESS_LEGACY))
        query = query.where(_equals(Organisation.finess, value))
    if name := params.get("name"):
        query = query.where(Organisation.name.ilike(f"%{name.strip()}%"))
    if ident := params.get("_id"):
        query = query.where(Organisation.id == ident)
    count, offset = _count(request), _offset(request)
    rows = list(
        await db.scalars(query.order_by(Organisation.name, Organisation.id).limit(count + 1).offset(offset))
    )
    return _bundle(request, [mapping.organization_resource(o) for o in rows[:count]], len(rows) > count)


ROLE_COLUMNS = professional_organisations.c


async def _roles(db: DbSession, *conditions: Any) -> list[dict[str, Any]]:
    rows = (
        await db.execute(
            select(ROLE_COLUMNS.role_id, Professional, Organisation)
            .join(Professional, Professional.id == ROLE_COLUMNS.professional_id)
            .join(Organisation, Organisation.id == ROLE_COLUMNS.organisation_id)
            .where(and_(True, *conditions))
            .options(selectinload(Professional.organisations))
            .order_by(ROLE_COLUMNS.role_id)
            .limit(MAX_COUNT + 1)
        )
    ).all()
    return [mapping.practitioner_role_resource(role_id, pro, org) for role_id, pro, org in rows]


@router.get("/PractitionerRole/{role_id}", responses=FHIR_RESPONSES)
async def read_practitioner_role(role_id: str, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    roles = await _roles(db, ROLE_COLUMNS.role_id == role_id)
    if not roles:
        raise NotFound("PractitionerRole introuvable")
    return roles[0]


@router.get("/PractitionerRole", responses=FHIR_RESPONSES)
async def search_practitioner_role(request: Request, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    params = request.query_params
    conditions = []
    if practitioner := params.get("practitioner"):
        conditions.append(ROLE_COLUMNS.professional_id == practitioner.removeprefix("Practitioner/"))
    if organization := params.get("organization"):
        conditions.append(ROLE_COLUMNS.organisation_id == organization.removeprefix("Organization/"))
    if ident := params.get("_id"):
        conditions.append(ROLE_COLUMNS.role_id == ident)
    count = _count(request)
    roles = await _roles(db, *conditions)
    return _bundle(request, roles[:count], len(roles) > count)


def _patient_param(request: Request) -> str:
    value = request.query_params.get("patient") or request.query_params.get("entity")
    if not value:
        raise Invalid.field("patient", "required: Patient/{id}")
    return value.removeprefix("Patient/")


@router.get("/AuditEvent", responses=FHIR_RESPONSES)
async def search_audit_event(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The access traces of one patient: for the patient themself and for auditors."""
    patient_id = _patient_param(request)
    if actor.role == "auditor":
        patient = await db.get(Patient, patient_id)
        if patient is None:
            raise NotFound("patient introuvable")
        record(
            db,
            actor,
            action="read",
            resource_type="AuditEvent",
            resource_id=patient_id,
            patient_id=patient_id,
            purpose="audit",
        )
    elif actor.role == "patient":
        patient = await access_patient(db, actor, patient_id, resource_type="AuditEvent")
    else:
        raise Forbidden("réservé au patient et aux auditeurs")
    count = _count(request)
    rows = await access_log_events(db, patient.id, count + 1, _offset(request))
    resources = [traces.audit_event_resource(event, who) for event, who in rows[:count]]
    return _bundle(request, resources, len(rows) > count)


@router.get("/Consent", responses=FHIR_RESPONSES)
async def search_consent(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    patient = await access_patient(db, actor, _patient_param(request), resource_type="Consent")
    consents = await consent_service.consents_of(db, patient)
    in_force = {
        c.id
        for act in consent_service.ACT_LABELS
        if (c := await consent_service.current_consent(db, patient.id, act))
    }
    return _bundle(request, [traces.consent_resource(c, c.id in in_force) for c in consents], False)


@router.get("/Schedule/{professional_id}", responses=FHIR_RESPONSES)
async def read_schedule(professional_id: str, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    professional = await db.get(Professional, professional_id)
    if professional is None or not await teleconsultation_types(db, professional_id):
        raise NotFound("Schedule introuvable")
    return scheduling.schedule_resource(professional)


@router.get("/Slot", responses=FHIR_RESPONSES)
async def search_slot(request: Request, db: DbSession, _: CurrentActor) -> dict[str, Any]:
    """Free slots: `schedule=Schedule/{id}`, `start=geYYYY-MM-DD` (7 days from that day)."""
    schedule_ref = request.query_params.get("schedule", "")
    professional_id = schedule_ref.removeprefix("Schedule/")
    kinds = await teleconsultation_types(db, professional_id) if professional_id else []
    if not kinds:
        raise Invalid.field(
            "schedule", "required: Schedule/{id} of a professional offering téléconsultations"
        )
    first = _date(request.query_params.get("start", "ge" + date.today().isoformat()).removeprefix("ge"))
    free = await agenda_slots(db, professional_id, kinds[0], first, first + timedelta(days=6))
    count = _count(request)
    resources = [
        scheduling.slot_resource(professional_id, s, kinds[0].duration_minutes) for s in free[:count]
    ]
    return _bundle(request, resources, False)


@router.get("/Appointment", responses=FHIR_RESPONSES)
async def search_appointment(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A patient's appointments (`patient=`), for the patient and those who care for them."""
    patient = await access_patient(db, actor, _patient_param(request), resource_type="Appointment")
    rows = await db.scalars(
        select(Appointment)
        .where(Appointment.patient_id == patient.id)
        .order_by(Appointment.starts_at)
        .limit(MAX_COUNT)
    )
    return _bundle(request, [scheduling.appointment_resource(a) for a in rows], False)


async def _readable_appointment(
    db: DbSession, actor: CurrentActor, appointment_id: str, kind: str
) -> Appointment:
    """An appointment of a patient the actor may see (gate, audited); one 404 whether missing or forbidden."""
    appointment = await db.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"{kind} introuvable")
    try:
        await access_patient(
            db, actor, appointment.patient_id, resource_type=kind, resource_id=appointment.id
        )
    except NotFound:
        raise NotFound(f"{kind} introuvable") from None
    return appointment


@router.get("/Appointment/{appointment_id}", responses=FHIR_RESPONSES)
async def read_appointment(appointment_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return scheduling.appointment_resource(
        await _readable_appointment(db, actor, appointment_id, "Appointment")
    )


@router.get("/Encounter/{encounter_id}", responses=FHIR_RESPONSES)
async def read_encounter(encounter_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The encounter of a téléconsultation once it started (its id is the appointment's), or of a
    téléassistance session once accepted (its id is the session's)."""
    if (assistance := await teleassistance_fhir.read_encounter(db, actor, encounter_id)) is not None:
        return assistance
    appointment = await _readable_appointment(db, actor, encounter_id, "Encounter")
    resource = scheduling.encounter_resource(appointment)
    if resource is None:  # booked, not held: no encounter yet
        raise NotFound("Encounter introuvable")
    return resource


@router.get("/Encounter", responses=FHIR_RESPONSES)
async def search_encounter(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    patient = await access_patient(db, actor, _patient_param(request), resource_type="Encounter")
    rows = await db.scalars(
        select(Appointment)
        .where(Appointment.patient_id == patient.id)
        .order_by(Appointment.starts_at)
        .limit(MAX_COUNT)
    )
    resources = [r for a in rows if (r := scheduling.encounter_resource(a))]
    resources += await teleassistance_fhir.patient_encounters(db, patient.id)
    return _bundle(request, resources, False)


async def _readable_report(db: DbSession, actor: CurrentActor, report_id: str, resource_type: str) -> Report:
    """A signed report the actor may read (gate, audited); one 404 whether missing or forbidden."""
    found = await teleconsultation_report.signed_report_by_id(db, report_id)
    if found is None:
        raise NotFound(f"{resource_type} introuvable")
    try:
        await access_patient(db, actor, found.patient_id, resource_type=resource_type, resource_id=found.id)
    except NotFound:
        raise NotFound(f"{resource_type} introuvable") from None
    return found


async def _searched_reports(
    request: Request, db: DbSession, actor: CurrentActor, resource_type: str
) -> list[Report]:
    """Signed reports by `patient` and/or `encounter`, through the access gate."""
    params = request.query_params
    encounter_id = (params.get("encounter") or "").removeprefix("Encounter/") or None
    patient_id = (params.get("patient") or "").removeprefix("Patient/")
    if not patient_id:
        if encounter_id is None:
            raise Invalid.field("patient", "required: Patient/{id}, or encounter=Encounter/{id}")
        appointment = await db.get(Appointment, encounter_id)
        if appointment is None:
            raise NotFound(NOT_FOUND)
        patient_id = appointment.patient_id
    patient = await access_patient(db, actor, patient_id, action="search", resource_type=resource_type)
    return await teleconsultation_report.signed_reports_of(db, patient.id, encounter_id, MAX_COUNT)


async def _document_reference(request: Request, db: DbSession, found: Report) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    url = f"{base}/api/teleconsultations/{found.appointment_id}/report.pdf"
    return reports.document_reference_resource(found, await report_pdf(db, found), url)


@router.get("/Composition/{report_id}", responses=FHIR_RESPONSES)
async def read_composition(report_id: str, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A signed compte rendu of téléconsultation, for the patient and those who care for them."""
    return reports.composition_resource(await _readable_report(db, actor, report_id, "Composition"))


@router.get("/Composition", responses=FHIR_RESPONSES)
async def search_composition(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """A patient's signed comptes rendus: `patient=`, `encounter=` or both."""
    found = await _searched_reports(request, db, actor, "Composition")
    return _bundle(request, [reports.composition_resource(r) for r in found], False)


@router.get("/DocumentReference/{report_id}", responses=FHIR_RESPONSES)
async def read_document_reference(
    request: Request, report_id: str, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    """The PDF of a signed compte rendu, or of a téléexpertise answer: its address, size and SHA-1."""
    if await teleconsultation_report.signed_report_by_id(db, report_id) is None:
        answer = await teleexpertise_fhir.read_answer_document(request, db, actor, report_id)
        answer = answer or await teleassistance_fhir.read_document(request, db, actor, report_id)
        if answer is None:
            raise NotFound("DocumentReference introuvable")
        return answer
    found = await _readable_report(db, actor, report_id, "DocumentReference")
    return await _document_reference(request, db, found)


@router.get("/DocumentReference", responses=FHIR_RESPONSES)
async def search_document_reference(request: Request, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """The PDFs of a patient's signed comptes rendus: `patient=`, `encounter=` or both; with
    `patient=` alone, the reports of the patient's téléexpertise answers and téléassistance
    sessions (with their captured stills) too."""
    found = await _searched_reports(request, db, actor, "DocumentReference")
    resources = [await _document_reference(request, db, r) for r in found]
    if patient_id := _answers_patient(request):
        resources += await teleexpertise_fhir.patient_answer_documents(request, db, patient_id)
        resources += await teleassistance_fhir.patient_documents(request, db, patient_id)
    return _bundle(request, resources, False)


def _answers_patient(request: Request) -> str | None:
    """The patient whose answers' reports a search also returns (none when it names an encounter)."""
    params = request.query_params
    if params.get("encounter"):
        return None
    return (params.get("patient") or "").removeprefix("Patient/") or None
