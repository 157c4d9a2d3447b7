"""The room's French pages: the live queue and map, the ARM's intake form, the regulator's file,
and the crew's phone page.

Every action is a plain form calling the same services as the JSON API, inside a savepoint: a
refusal shows the page again with the reason next to its field, and nothing of the attempt stays.
The queue and the file are also served alone (`/regulation/file-attente`, `…/suivi`): the pages'
scripts fetch them again when the room's live events arrive. The crew's page has no login: its
script reads the mission token from the URL fragment and speaks to the crew API with it.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ValidationError

from telesante.audit.service import record
from telesante.auth.actor import Actor
from telesante.db import utcnow
from telesante.deps import DbSession
from telesante.errors import AppError, Invalid, NotFound
from telesante.prescriptions.routes import SignerDep
from telesante.regulation import decisions, files, map_svg, missions, sas, views
from telesante.regulation.codes import (
    CALLER_TYPES,
    CARE_LEVELS,
    DECISIONS,
    FUNCTION_LABELS,
    ORIENTATIONS,
    PERIMETERS,
    PRIORITIES,
    SEXES,
    VEHICLE_TYPES,
    WAIT_LIMITS_SECONDS,
    Function,
)
from telesante.regulation.models import Mission, RegulationFile
from telesante.regulation.routes import bus_of
from telesante.regulation.schemas import CareLevelIn, DecisionIn, FileOpen, Intake, NoteIn, SasBookingIn
from telesante.regulation.staff import Member, file_for, membership, require
from telesante.regulation.states import CASE_LABELS, OPEN_STATES, ORDER, STATUS_LABELS, Status
from telesante.web.guard import PageActor
from telesante.web.render import page

router = APIRouter(include_in_schema=False)
SAS_SHOWN = 6  # the first slots offered on the page, the médecin traitant first
ROOM = "/regulation"
PARIS = ZoneInfo("Europe/Paris")
Model = TypeVar("Model", bound=BaseModel)
OPENERS = (Function.ARM, Function.MRU, Function.MRL)
# What the crew may say from the scene; ORIENTAT is the regulator's, ANNULE the room's.
CREW_STATUSES = [s for s in ORDER if s not in {Status.DECISION, Status.DECLENCHE, Status.ORIENTAT}]
TOO_LONG = "texte trop long"
INTAKE_HINTS = {
    "caller_type": "choisissez le type d'appelant dans la liste",
    "caller_phone": "numéro de rappel invalide : chiffres, espaces ou points (3 à 20), « + » en tête",
    "caller_language": "code de langue de 2 ou 3 lettres (fr, en, ar…)",
    "latitude": "latitude en degrés décimaux, entre -90 et 90 (par exemple 45,76)",
    "longitude": "longitude en degrés décimaux, entre -180 et 180 (par exemple 4,83)",
    "patient_ins": "INS invalide : 15 caractères (NIR et clé de contrôle), vérifiez la saisie",
    "patient_age": "âge en années : un nombre entier de 0 à 130",
    "patient_sex": "choisissez le sexe dans la liste",
    "priority": "choisissez une priorité de P0 à NR",
    "perimeter": "choisissez la filière AMU ou SNP",
    "origin": "choisissez la ligne de l'appel",
}
DECISION_HINTS = {
    "kind": "choisissez le type de décision",
    "resource_id": "choisissez le moyen à engager",
    "orientation": "choisissez l'orientation dans la liste",
    "medical_transport": "précisez si le transport est médicalisé",
    "prescription": "ligne de médicament invalide (texte trop long ?)",
}
# The fields each kind of decision takes, besides its details: the others are left out.
DECISION_FIELDS = {
    "INTER": ("resource_id",),
    "ORIENT": ("orientation", "destination", "medical_transport"),
    "PMT": ("prescription",),
}
DRUG_FIELDS = ("drug", "dose", "form", "posology", "duration", "quantity")


def _at(iso: str | None) -> str:
    """Stored in UTC, shown in Paris time to the second: in the room, seconds count."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(PARIS).strftime("%d/%m %H:%M:%S")


LABELS: dict[str, Any] = {
    "priorities": PRIORITIES,
    "care_levels": CARE_LEVELS,
    "decision_labels": DECISIONS,
    "orientations": ORIENTATIONS,
    "caller_types": CALLER_TYPES,
    "sexes": SEXES,
    "perimeters": PERIMETERS,
    "vehicles": VEHICLE_TYPES,
    "case_labels": CASE_LABELS,
    "status_labels": STATUS_LABELS,
    "functions": FUNCTION_LABELS,
    "limits": WAIT_LIMITS_SECONDS,
    "at": _at,
}

NEW_FILE = {**LABELS, "with_origin": True, "identified": False}


# The room: the queue, the calls ringing, the map.


async def _room(db: DbSession, member: Member, filiere: str) -> dict[str, Any]:
    chosen = filiere if filiere in PERIMETERS else ""
    queue = await views.queue(db, member.centre_id)
    for part in ("waiting", "regulating"):
        queue[part] = [f for f in queue[part] if not chosen or f["perimeter"] == chosen]
    markers = map_svg.resources(await views.resources(db, member.centre_id))
    markers += map_svg.incidents(queue["waiting"] + queue["regulating"])
    fragment = f"{ROOM}/file-attente" + (f"?filiere={chosen}" if chosen else "")
    return {"queue": queue, "filiere": chosen, "fragment": fragment, "map": map_svg.svg(markers), **LABELS}


@router.get("/regulation")
async def room_page(request: Request, db: DbSession, actor: PageActor, filiere: str = "") -> HTMLResponse:
    member = await membership(db, actor)
    context = await _room(db, member, filiere)
    return page(request, "reg_room.html", actor=actor, member=member, openers=OPENERS, **context)


@router.get("/regulation/file-attente")
async def room_list(request: Request, db: DbSession, actor: PageActor, filiere: str = "") -> HTMLResponse:
    """The queue and the map alone, for the live refresh."""
    member = await membership(db, actor)
    return page(request, "reg_room_list.html", actor=actor, member=member, **await _room(db, member, filiere))


# Forms: the submitted strings, checked by the API's own schemas, refusals named by field in French.


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


def _validated(model: type[Model], data: dict[str, Any], hints: dict[str, str]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = dict.fromkeys(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        errors = [{"field": name, "reason": hints.get(name, TOO_LONG)} for name in fields]
        raise Invalid("saisie à corriger : voir les champs signalés", errors=errors) from None


def _by_field(exc: AppError) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in exc.errors}


def _intake_data(values: dict[str, str], model: type[Intake]) -> dict[str, Any]:
    """What the ARM typed, as the schema reads it: blanks left out, French decimal commas read."""
    data: dict[str, Any] = {}
    for name in model.model_fields:
        value = values.get(name, "")
        if not value or name == "call_id":
            continue
        if name in {"latitude", "longitude"}:
            value = value.replace(",", ".")
        elif name == "patient_ins":
            value = value.replace(" ", "")
        elif name == "caller_language":
            value = value.lower()
        data[name] = value
    return data


def _decision_data(values: dict[str, str]) -> dict[str, Any]:
    kind = values.get("kind", "")
    data: dict[str, Any] = {"kind": kind, "details": values.get("details") or None}
    wanted = DECISION_FIELDS.get(kind, ())
    for name in ("resource_id", "orientation", "destination"):
        if name in wanted and values.get(name):
            data[name] = values[name]
    if "medical_transport" in wanted and values.get("medical_transport") in {"oui", "non"}:
        data["medical_transport"] = values["medical_transport"] == "oui"
    if "prescription" in wanted and values.get("drug"):
        data["prescription"] = [{name: values.get(name) or None for name in DRUG_FIELDS}]
    return data


# A file: what the ARM entered, the regulation, the decisions and missions live.


def _intake_values(shown: dict[str, Any]) -> dict[str, str]:
    values = {name: "" if value is None else str(value) for name, value in shown["intake"].items()}
    return {**values, "priority": shown["priority"], "perimeter": shown["perimeter"]}


async def _file_context(db: DbSession, member: Member, file: RegulationFile) -> dict[str, Any]:
    shown = await views.detail(db, file)
    return {
        "actor": member.actor,
        "member": member,
        "f": shown,
        "now": utcnow().isoformat(),
        "mission_names": {m["id"]: m["resource"]["name"] for m in shown["missions"]},
        "taken": file.regulator_id is not None,
        "mine": file.regulator_id == member.user_id,
        "is_open": file.state in OPEN_STATES,
        **LABELS,
    }


async def _file_page(
    request: Request,
    db: DbSession,
    member: Member,
    file: RegulationFile,
    *,
    status_code: int = 200,
    error: AppError | None = None,
    values: dict[str, str] | None = None,
    crew: dict[str, Any] | None = None,
) -> HTMLResponse:
    context = await _file_context(db, member, file)
    errors = _by_field(error) if error else {}
    return page(
        request,
        "reg_file.html",
        status_code,
        values={**_intake_values(context["f"]), **(values or {})},
        error=error.detail if error else None,
        errors=errors,
        intake_open=any(name in errors for name in Intake.model_fields),
        identified=context["f"]["patient_identified"],
        resources=await _available(db, member),
        sas_offers=await _sas_offers(db, member, file),
        crew=crew,
        **context,
    )


async def _sas_offers(db: DbSession, member: Member, file: RegulationFile) -> list[dict[str, Any]]:
    """For the regulator of an identified caller on the GP line: the first free slots, one click each."""
    if file.perimeter != "SNP" or file.regulator_id != member.user_id or not file.patient_id:
        return []
    if file.state not in OPEN_STATES:
        return []
    return (await sas.offers(db, file))[:SAS_SHOWN]


@router.post("/regulation/dossiers/{file_id}/rendez-vous")
async def sas_booking(request: Request, file_id: str, db: DbSession, actor: PageActor) -> Response:
    """One click: the offered slot becomes the caller's appointment (SAS line)."""
    member, file = await file_for(db, actor, file_id[:36], action="update")
    values = await _form(request)

    async def action() -> None:
        data = _validated(
            SasBookingIn, {k: values.get(k, "") for k in ("professional_id", "type_id", "starts_at")}, {}
        )
        await sas.book(db, bus_of(request), member, file, data.professional_id, data.type_id, data.starts_at)

    return await _attempt(request, db, member, file, action) or _to_file(file)


async def _available(db: DbSession, member: Member) -> dict[str, str]:
    """The resources an INTER may engage, as the select shows them."""
    return {
        r["id"]: f"{r['name']} — {VEHICLE_TYPES.get(r['vehicle_type'] or '', r['vehicle_type'] or r['type'])}"
        for r in await views.resources(db, member.centre_id)
        if r["available"]
    }


def _read(db: DbSession, actor: Actor, file: RegulationFile) -> None:
    record(
        db,
        actor,
        action="read",
        resource_type="RegulationFile",
        resource_id=file.id,
        patient_id=file.patient_id,
        purpose="regulation",
    )


def _to_file(file: RegulationFile) -> RedirectResponse:
    return RedirectResponse(f"{ROOM}/dossiers/{file.id}", status_code=303)


async def _attempt(
    request: Request,
    db: DbSession,
    member: Member,
    file: RegulationFile,
    action: Callable[[], Awaitable[object]],
    values: dict[str, str] | None = None,
) -> HTMLResponse | None:
    """None when the action went through; else the file page again with the reason."""
    try:
        async with db.begin_nested():
            await action()
    except AppError as exc:
        await db.refresh(file)  # the savepoint's rollback expired what it touched
        return await _file_page(request, db, member, file, status_code=exc.status, error=exc, values=values)
    return None


@router.get("/regulation/dossiers/nouveau")
async def new_file_page(request: Request, db: DbSession, actor: PageActor) -> HTMLResponse:
    member = await membership(db, actor)
    require(member, OPENERS, "ouvrir un dossier")
    values = {"priority": "P2", "perimeter": "AMU", "origin": "15"}
    return page(request, "reg_file_new.html", actor=actor, values=values, errors={}, **NEW_FILE)


@router.post("/regulation/dossiers/nouveau")
async def new_file(request: Request, db: DbSession, actor: PageActor) -> Response:
    member = await membership(db, actor)
    values = await _form(request)
    try:
        data = _validated(FileOpen, _intake_data(values, FileOpen), INTAKE_HINTS)
        async with db.begin_nested():
            file = await files.open_file(db, bus_of(request), member, data)
    except AppError as exc:
        return page(
            request,
            "reg_file_new.html",
            exc.status,
            actor=actor,
            values=values,
            errors=_by_field(exc),
            error=exc.detail,
            **NEW_FILE,
        )
    return _to_file(file)


@router.get("/regulation/dossiers/{file_id}")
async def file_page(request: Request, file_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    member, file = await file_for(db, actor, file_id[:36])
    _read(db, actor, file)
    return await _file_page(request, db, member, file)


@router.get("/regulation/dossiers/{file_id}/suivi")
async def file_live(request: Request, file_id: str, db: DbSession, actor: PageActor) -> HTMLResponse:
    """The file's state, notes, decisions, missions and bilans alone, for the live refresh."""
    member, file = await file_for(db, actor, file_id[:36])
    _read(db, actor, file)
    return page(request, "reg_file_live.html", **await _file_context(db, member, file))


@router.post("/regulation/dossiers/{file_id}/saisie")
async def update_intake(request: Request, file_id: str, db: DbSession, actor: PageActor) -> Response:
    member, file = await file_for(db, actor, file_id[:36], action="update")
    values = await _form(request)

    async def action() -> None:
        data = _validated(Intake, _intake_data(values, Intake), INTAKE_HINTS)
        await files.update_intake(db, bus_of(request), member, file, data)

    return await _attempt(request, db, member, file, action, values) or _to_file(file)


@router.post("/regulation/dossiers/{file_id}/prendre")
async def take(request: Request, file_id: str, db: DbSession, actor: PageActor) -> Response:
    member, file = await file_for(db, actor, file_id[:36], action="update")
    refused = await _attempt(request, db, member, file, lambda: files.take(db, bus_of(request), member, file))
    return refused or _to_file(file)


@router.post("/regulation/dossiers/{file_id}/notes")
async def add_note(request: Request, file_id: str, db: DbSession, actor: PageActor) -> Response:
    member, file = await file_for(db, actor, file_id[:36], action="update")
    values = await _form(request)

    async def action() -> None:
        hints = {"text": "écrivez la note (4 000 caractères au plus)"}
        note = _validated(NoteIn, {"text": values.get("text", "")}, hints)
        await files.add_note(db, bus_of(request), member, file, note.text)

    return await _attempt(request, db, member, file, action, values) or _to_file(file)


@router.post("/regulation/dossiers/{file_id}/niveau")
async def care_level(request: Request, file_id: str, db: DbSession, actor: PageActor) -> Response:
    member, file = await file_for(db, actor, file_id[:36], action="update")
    values = await _form(request)

    async def action() -> None:
        hints = {"care_level": "choisissez un niveau de soins de R1 à R4"}
        level = _validated(CareLevelIn, {"care_level": values.get("care_level", "")}, hints)
        await files.set_care_level(db, bus_of(request), member, file, level.care_level)

    return await _attempt(request, db, member, file, action, values) or _to_file(file)


@router.post("/regulation/dossiers/{file_id}/decisions")
async def decide(
    request: Request, file_id: str, db: DbSession, actor: PageActor, signer: SignerDep
) -> Response:
    """A decision; after an INTER, the page itself (not a redirect) shows the crew's link once:
    only its hash is kept."""
    member, file = await file_for(db, actor, file_id[:36], action="update")
    values = await _form(request)
    produced: dict[str, Any] = {}

    async def action() -> None:
        data = _validated(DecisionIn, _decision_data(values), DECISION_HINTS)
        _decision, made = await decisions.decide(db, bus_of(request), member, file, data, signer)
        produced.update(made)

    refused = await _attempt(request, db, member, file, action, values)
    if refused or "crew_link" not in produced:
        return refused or _to_file(file)
    return await _file_page(request, db, member, file, crew=_crew(request, produced))


@router.post("/regulation/dossiers/{file_id}/missions/{mission_id}/lien")
async def new_crew_link(
    request: Request, file_id: str, mission_id: str, db: DbSession, actor: PageActor
) -> Response:
    """A new link for a running mission's crew (a reflex departure has none yet, a link gets lost)."""
    member, file = await file_for(db, actor, file_id[:36], action="update")
    mission = await db.get(Mission, mission_id[:36])
    if mission is None or mission.file_id != file.id:
        raise NotFound("mission introuvable")
    produced: dict[str, Any] = {}

    async def action() -> None:
        produced.update(
            mission_id=mission.id, crew_link=missions.crew_link(await missions.reissue_link(db, mission))
        )

    refused = await _attempt(request, db, member, file, action)
    return refused or await _file_page(request, db, member, file, crew=_crew(request, produced))


def _crew(request: Request, produced: dict[str, Any]) -> dict[str, Any]:
    link = str(request.base_url).rstrip("/") + produced["crew_link"]
    qr = segno.make(link, error="m").svg_inline(scale=4, title="QR code du lien de l'équipage")
    return {"link": link, "qr": Markup(qr), "mission_id": produced["mission_id"]}  # noqa: S704 - segno's SVG


@router.post("/regulation/dossiers/{file_id}/validation")
async def validate(request: Request, file_id: str, db: DbSession, actor: PageActor) -> Response:
    member, file = await file_for(db, actor, file_id[:36], action="update")
    refused = await _attempt(
        request, db, member, file, lambda: files.move(db, bus_of(request), member, file, "VALIDE")
    )
    return refused or _to_file(file)


# The crew's phone: no session; the page's script holds the mission token.


@router.get("/regulation/equipage")
async def crew_page(request: Request) -> HTMLResponse:
    labels = {
        "status": {s.value: label for s, label in STATUS_LABELS.items()},
        "order": [s.value for s in ORDER],
        "sexes": SEXES,
    }
    return page(request, "reg_crew.html", crew_statuses=CREW_STATUSES, labels=labels, **LABELS)
