"""The ordonnance numérique over HTTP: prescribe, print, verify and dispense; FHIR; the pharmacy page."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from telesante.auth.actor import Actor
from telesante.deps import CurrentActor, DbSession, SettingsDep
from telesante.errors import PROBLEM_RESPONSES, Conflict, Invalid, NotFound
from telesante.fhir.mapping import searchset
from telesante.fhir.outcome import FHIR_JSON, FhirResponse
from telesante.patients.access import access_patient
from telesante.prescriptions import fhir, pdf, service
from telesante.prescriptions import public_id as ids
from telesante.prescriptions.schemas import (
    DispenseIn,
    DispenseLine,
    PrescriptionCreate,
    PrescriptionCreated,
    PrescriptionView,
)
from telesante.prescriptions.signing import Signer, load_signer
from telesante.web.guard import PageActor
from telesante.web.render import page


def get_signer(settings: SettingsDep) -> Signer:
    return load_signer(settings)


SignerDep = Annotated[Signer, Depends(get_signer)]

router = APIRouter(prefix="/api/prescriptions", tags=["prescriptions"], responses=PROBLEM_RESPONSES)
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}} for code in (401, 403, 404, 422)
}
PDF: dict[int | str, dict[str, Any]] = {
    200: {"description": "L'ordonnance imprimable", "content": {"application/pdf": {}}}
}


@router.post("", status_code=status.HTTP_201_CREATED)
async def prescribe(
    data: PrescriptionCreate, db: DbSession, actor: CurrentActor, signer: SignerDep
) -> PrescriptionCreated:
    """A médecin, sage-femme or chirurgien-dentiste of the patient's care team signs an ordonnance.

    Every mention of CSP R5132-3 is checked; the 422 lists each missing one with its rule.
    """
    prescription, content = await service.create_prescription(db, actor, data, signer)
    return PrescriptionCreated(
        public_id=prescription.public_id,
        printed_id=ids.printed(prescription.public_id),
        key_id=prescription.key_id,
        issued_at=prescription.issued_at,
        content=content,
    )


@router.get("/verify/{public_id}")
async def verify(public_id: str, db: DbSession, actor: CurrentActor, signer: SignerDep) -> PrescriptionView:
    """For a pharmacist: the signature check, what was prescribed, and what was already dispensed.

    The public id (printed, and in the QR code) is the authorisation; every call is audited.
    """
    return service.view(await service.verify(db, actor, public_id, signer))


@router.post("/{public_id}/dispensations", status_code=status.HTTP_201_CREATED)
async def dispense(
    public_id: str, data: DispenseIn, db: DbSession, actor: CurrentActor, signer: SignerDep
) -> PrescriptionView:
    """For a pharmacist: dispense lines. A line goes at most 1 + renewals times (409 beyond)."""
    return service.view(await service.dispense(db, actor, public_id, data, signer))


@router.get("/{public_id}.pdf", response_class=Response, responses=PDF)
async def prescription_pdf(public_id: str, db: DbSession, actor: CurrentActor, signer: SignerDep) -> Response:
    """The printable ordonnance with its QR code, for the patient and their care team."""
    checked = await service.read_as_patient_or_carer(db, actor, public_id, signer)
    if checked.content is None:
        raise Conflict(f"ordonnance non imprimable : {checked.problem}")
    data = pdf.render_pdf(checked.content, checked.prescription.key_id)
    name = f"ordonnance-{checked.prescription.public_id}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/{public_id}")
async def read_prescription(
    public_id: str, db: DbSession, actor: CurrentActor, signer: SignerDep
) -> PrescriptionView:
    """The prescription as signed, for the patient and their care team."""
    return service.view(await service.read_as_patient_or_carer(db, actor, public_id, signer))


# ---------------------------------------------------------------- FHIR (mounted by app.py)

fhir_router = APIRouter(prefix="/fhir/R4", tags=["fhir"], default_response_class=FhirResponse)


@fhir_router.get("/MedicationRequest", responses=FHIR_RESPONSES)
async def search_medication_request(
    request: Request, db: DbSession, actor: CurrentActor, signer: SignerDep
) -> dict[str, Any]:
    """One MedicationRequest per line of the patient's verified prescriptions (groupIdentifier = number).

    For the patient and their care team; a pharmacist reads a prescription through the verify endpoint.
    """
    raw = request.query_params.get("patient")
    if not raw:
        raise Invalid.field("patient", "required: Patient/{id}")
    patient = await access_patient(
        db, actor, raw.removeprefix("Patient/"), action="search", resource_type="MedicationRequest"
    )
    resources: list[dict[str, Any]] = []
    for checked in await service.checked_of_patient(db, patient, signer):
        if checked.content is not None:  # an altered prescription is not served as if prescribed
            resources += fhir.medication_requests(
                checked.prescription, checked.content, checked.dispensations
            )
    return _searchset(request, resources)


@fhir_router.get("/MedicationDispense", responses=FHIR_RESPONSES)
async def search_medication_dispense(
    request: Request, db: DbSession, actor: CurrentActor, signer: SignerDep
) -> dict[str, Any]:
    """The dispensations of one prescription, by its public number (`prescription=ORD-…`)."""
    raw = request.query_params.get("prescription")
    if not raw:
        raise Invalid.field("prescription", "required: the prescription number ORD-…")
    checked = await service.read_as_patient_or_carer(db, actor, raw, signer)
    resources = []
    if checked.content is not None:
        resources = fhir.medication_dispenses(checked.prescription, checked.content, checked.dispensations)
    return _searchset(request, resources)


def _searchset(request: Request, resources: list[dict[str, Any]]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/") + "/fhir/R4"
    return searchset(resources, base, str(request.url), None)


# ---------------------------------------------------------------- the pharmacy page (mounted by app.py)

pages_router = APIRouter(include_in_schema=False)


async def _pharmacy_page(
    request: Request, db: DbSession, actor: Actor, signer: Signer, raw_id: str, error: str | None = None
) -> HTMLResponse:
    await service.require_pharmacist(db, actor)
    view = None
    status_code = 200
    if raw_id.strip():
        try:
            view = service.view(await service.verify(db, actor, raw_id, signer))
        except NotFound as exc:
            error, status_code = exc.detail, 404
    return page(
        request,
        "pharmacy_dispense.html",
        status_code if not error or view is None else 409,
        actor=actor,
        query=raw_id,
        view=view,
        error=error,
        labels=[pdf.line_text(line) for line in (view.content or {}).get("lines", [])] if view else [],
    )


@pages_router.get("/pharmacie")
async def pharmacy(
    request: Request,
    db: DbSession,
    actor: PageActor,
    signer: SignerDep,
    id: Annotated[str, Query(max_length=80)] = "",
) -> HTMLResponse:
    """Type or paste the prescription number (the QR code holds it), see it verified, dispense lines."""
    return await _pharmacy_page(request, db, actor, signer, id)


@pages_router.post("/pharmacie/{public_id}/lignes/{line}")
async def pharmacy_dispense(
    request: Request, public_id: str, line: int, db: DbSession, actor: PageActor, signer: SignerDep
) -> Response:
    """One line dispensed; CSRF-checked by deps for a cookie session (the form's csrf_token)."""
    try:
        await service.dispense(db, actor, public_id, DispenseIn(lines=[DispenseLine(line=line)]), signer)
    except (Conflict, Invalid) as exc:
        return await _pharmacy_page(request, db, actor, signer, public_id, error=exc.detail)
    except ValidationError:
        return await _pharmacy_page(request, db, actor, signer, public_id, error="ligne invalide")
    return RedirectResponse(f"/pharmacie?id={quote(public_id)}", status_code=303)
