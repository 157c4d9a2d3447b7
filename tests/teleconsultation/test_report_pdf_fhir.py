"""The signed compte rendu as a PDF and as FHIR Composition / DocumentReference, behind the gate."""

import base64
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from httpx import AsyncClient
from sqlalchemy import text

from telesante.documents.pdf import check_pdf
from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.prescriptions.test_pdf import pdf_text
from tests.teleconsultation.conftest import Practice
from tests.teleconsultation.test_report import SECTIONS, held_call


async def signed_report(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> tuple[object, str, dict[str, object]]:
    me, appointment_id = await held_call(client, world, runtime, practice)
    url = f"/api/teleconsultations/{appointment_id}/report"
    await client.put(url, json=SECTIONS, headers=practice.doctor.headers)
    signed = await client.post(f"{url}/sign", headers=practice.doctor.headers)
    assert signed.status_code == 200, signed.text
    return me, appointment_id, signed.json()


async def audited(runtime: Runtime, resource_type: str) -> list[str]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT actor_role FROM audit_events WHERE resource_type = :t AND outcome = 'success'"),
            {"t": resource_type},
        )
        return sorted(r[0] for r in rows)


async def content_hash(runtime: Runtime, report_id: str) -> str:
    async with runtime.engine.connect() as conn:
        found = await conn.execute(text("SELECT content_sha256 FROM reports WHERE id = :i"), {"i": report_id})
        return str(found.scalar_one())


async def test_the_signed_report_prints_who_when_the_sections_the_incidents_and_the_seal(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id, signed = await signed_report(client, world, runtime, practice)
    url = f"/api/teleconsultations/{appointment_id}/report.pdf"
    response = await client.get(url, headers=practice.doctor.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    check_pdf(response.content)  # a whole PDF, nothing active inside
    shown = pdf_text(response.content)
    frozen = signed["record"]
    starts = datetime.fromisoformat(frozen["starts_at"]).astimezone(ZoneInfo("Europe/Paris"))
    for expected in (
        "Dr Claire Martin",
        f"RPPS : {practice.doctor.professional.rpps}",
        "Patient : Marie DURAND",
        "Né(e) le 17/05/1985",
        f"INS (INS-NIR-TEST) : {me.patient.ins_matricule}",
        f"Rendez-vous du {starts:%d/%m/%Y à %H:%M}",
        "Toux depuis 5 jours",
        "Bronchite aiguë probable",
        "Conduite à tenir",
        "Incidents techniques de l'appel",
        "Reconnexion : ICE restart",
        f"Empreinte du contenu (SHA-256) : {await content_hash(runtime, signed['id'])}",
    ):
        assert expected in shown, expected
    mine = await client.get(url, headers=me.headers)
    assert mine.status_code == 200 and mine.content == response.content  # the same bytes every time
    assert await audited(runtime, "ReportPdf") == ["patient", "professional"]


async def test_a_draft_has_no_pdf_and_strangers_get_nothing(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await held_call(client, world, runtime, practice)
    url = f"/api/teleconsultations/{appointment_id}/report.pdf"
    assert (await client.get(url, headers=practice.doctor.headers)).status_code == 404  # nothing written
    await client.put(
        f"/api/teleconsultations/{appointment_id}/report", json=SECTIONS, headers=practice.doctor.headers
    )
    draft = await client.get(url, headers=practice.doctor.headers)
    assert draft.status_code == 409 and "pas encore signé" in draft.json()["detail"]
    assert (await client.get(url, headers=me.headers)).status_code == 404  # the patient never sees a draft
    await client.post(f"/api/teleconsultations/{appointment_id}/report/sign", headers=practice.doctor.headers)
    stranger = await world.professional("Autre")
    assert (await client.get(url, headers=stranger.headers)).status_code == 404
    assert (await client.get(url, headers=me.headers)).status_code == 200


async def test_composition_and_document_reference_read_and_searched_through_the_gate(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id, signed = await signed_report(client, world, runtime, practice)
    report_id = str(signed["id"])
    by_patient = await client.get(
        "/fhir/R4/Composition", params={"patient": f"Patient/{me.patient.id}"}, headers=me.headers
    )
    [composition] = [e["resource"] for e in by_patient.json()["entry"]]
    assert composition["id"] == report_id and composition["status"] == "final"
    assert composition["type"]["coding"][0]["code"] == "11488-4"
    assert composition["subject"]["reference"] == f"Patient/{me.patient.id}"
    assert composition["encounter"]["reference"] == f"Encounter/{appointment_id}"
    assert composition["author"][0]["reference"] == f"Practitioner/{practice.doctor.professional.id}"
    assert composition["attester"][0]["mode"] == "legal" and composition["attester"][0]["time"]
    sections = {s["code"]["coding"][0]["code"]: s["text"]["div"] for s in composition["section"]}
    assert "Bronchite aiguë probable" in sections["51848-0"] and "Reconnexion" in sections["call-incidents"]
    read = await client.get(f"/fhir/R4/Composition/{report_id}", headers=practice.doctor.headers)
    assert read.status_code == 200 and read.json() == composition
    by_encounter = await client.get(
        "/fhir/R4/Composition", params={"encounter": f"Encounter/{appointment_id}"}, headers=me.headers
    )
    assert [e["resource"]["id"] for e in by_encounter.json()["entry"]] == [report_id]

    document = (await client.get(f"/fhir/R4/DocumentReference/{report_id}", headers=me.headers)).json()
    attachment = document["content"][0]["attachment"]
    assert document["status"] == "current" and document["docStatus"] == "final"
    assert document["context"]["encounter"][0]["reference"] == f"Encounter/{appointment_id}"
    assert attachment["url"].endswith(f"/api/teleconsultations/{appointment_id}/report.pdf")
    pdf = (await client.get(attachment["url"].removeprefix("http://testserver"), headers=me.headers)).content
    assert attachment["size"] == len(pdf)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf, usedforsecurity=False).digest()).decode()
    searched = await client.get(
        "/fhir/R4/DocumentReference",
        params={"patient": me.patient.id, "encounter": appointment_id},
        headers=practice.doctor.headers,
    )
    assert [e["resource"] for e in searched.json()["entry"]] == [document]


async def test_who_may_not_see_the_patient_gets_the_fhir_not_found(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id, signed = await signed_report(client, world, runtime, practice)
    stranger = await world.professional("Autre")
    for path, params in (
        (f"/fhir/R4/Composition/{signed['id']}", {}),
        (f"/fhir/R4/DocumentReference/{signed['id']}", {}),
        ("/fhir/R4/Composition", {"patient": me.patient.id}),
        ("/fhir/R4/DocumentReference", {"encounter": appointment_id}),
    ):
        hidden = await client.get(path, params=params, headers=stranger.headers)
        assert hidden.status_code == 404, path
        assert hidden.json()["resourceType"] == "OperationOutcome"
    forbidden = await client.get(f"/fhir/R4/Composition/{signed['id']}", headers=stranger.headers)
    missing = await client.get("/fhir/R4/Composition/nope", headers=stranger.headers)
    assert (missing.status_code, missing.json()) == (
        forbidden.status_code,
        forbidden.json(),
    )  # nothing learnt
    assert (await client.get("/fhir/R4/Composition", headers=me.headers)).status_code == 422

    gp = await world.professional("Traitant")  # in the care team: allowed
    await client.post(
        f"/api/patients/{me.patient.id}/care-relations",
        headers=practice.doctor.headers,
        json={"professional_id": gp.professional.id, "reason": "gp_of_record"},
    )
    allowed = await client.get(f"/fhir/R4/Composition/{signed['id']}", headers=gp.headers)
    assert allowed.status_code == 200 and allowed.json()["id"] == signed["id"]


async def test_a_draft_is_not_a_composition(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await held_call(client, world, runtime, practice)
    saved = await client.put(
        f"/api/teleconsultations/{appointment_id}/report", json=SECTIONS, headers=practice.doctor.headers
    )
    bundle = (
        await client.get("/fhir/R4/Composition", params={"patient": me.patient.id}, headers=me.headers)
    ).json()
    assert bundle.get("entry", []) == []
    draft = await client.get(f"/fhir/R4/Composition/{saved.json()['id']}", headers=practice.doctor.headers)
    assert draft.status_code == 404


async def test_the_capability_statement_offers_both(client: AsyncClient) -> None:
    statement = (await client.get("/fhir/R4/metadata")).json()
    offered = {r["type"]: {p["name"] for p in r["searchParam"]} for r in statement["rest"][0]["resource"]}
    assert offered["Composition"] == offered["DocumentReference"] == {"patient", "encounter"}
