"""A patient downloads all their data (GDPR art. 15 and 20), and only they can."""

import base64
import re
import zlib

from fhir.resources.R4B.bundle import Bundle
from httpx import AsyncClient
from sqlalchemy import text

from telesante.runtime import Runtime
from tests.fixtures.world import Person, World
from tests.gdpr.arrange import DOCUMENT_BYTES, SUMMARY, full_record


def by_type(bundle: dict[str, object], resource_type: str) -> list[dict[str, object]]:
    entries = bundle["entry"]
    assert isinstance(entries, list)
    return [e["resource"] for e in entries if e["resource"]["resourceType"] == resource_type]


async def export_events(runtime: Runtime, patient_id: str) -> list[str]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT resource_type FROM audit_events WHERE patient_id = :p AND action = 'export'"),
            {"p": patient_id},
        )
        return sorted(r[0] for r in rows)


async def test_the_fhir_export_holds_the_whole_record_and_who_accessed_it(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    arranged = await full_record(world, runtime, client)
    patient, doctor = arranged.record, arranged.doctor
    response = await client.get("/api/me/export.json", headers=arranged.patient.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    bundle = response.json()
    Bundle.model_validate(bundle)  # a valid FHIR Bundle, every resource included
    assert bundle["type"] == "collection"

    [fhir_patient] = by_type(bundle, "Patient")
    assert fhir_patient["id"] == patient.id and fhir_patient["name"][0]["family"] == "Quenouille"
    [team] = by_type(bundle, "CareTeam")
    assert {p["member"]["reference"] for p in team["participant"]} == {
        f"Practitioner/{doctor.professional.id}"  # type: ignore[union-attr]
    }
    assert {p["name"][0]["family"] for p in by_type(bundle, "Practitioner")} >= {"Lenormand", "Intrus"}

    notes = by_type(bundle, "DocumentReference")
    texts = [
        base64.b64decode(n["content"][0]["attachment"]["data"])
        for n in notes
        if "data" in n["content"][0]["attachment"]
    ]
    assert SUMMARY.encode() in texts and DOCUMENT_BYTES in texts
    assert {n["category"][0]["coding"][0]["code"] for n in notes} == {"timeline-entry", "document"}
    [consent] = by_type(bundle, "Consent")
    assert consent["status"] == "active" and consent["provision"]["type"] == "permit"

    audits = by_type(bundle, "AuditEvent")
    seen = {(a["agent"][0]["who"]["display"], a["outcome"]) for a in audits}
    assert ("Dr Claire Lenormand", "0") in seen  # the doctor's read
    assert ("Dr Claire Intrus", "4") in seen  # the stranger's refused attempt
    assert await export_events(runtime, patient.id) == ["Bundle"]


async def test_the_pdf_summary_is_readable_french_and_audited(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    arranged = await full_record(world, runtime, client)
    response = await client.get("/api/me/export.pdf", headers=arranged.patient.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    shown = pdf_text(response.content)
    for expected in ("QUENOUILLE", "Claire Lenormand", "Claire Intrus", "Consentements", "compte-rendu.pdf"):
        assert expected in shown, expected
    assert await export_events(runtime, arranged.record.id) == ["PatientSummaryPdf"]


def pdf_text(pdf: bytes) -> str:
    """The text shown on reportlab's pages (ASCII85 + Flate streams), enough to find ASCII words."""
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)~>\r?\n?endstream", pdf, re.S):
        content = zlib.decompress(base64.a85decode(stream.strip()))
        out.extend(m.decode("latin-1") for m in re.findall(rb"\((.*?)\) Tj", content))
    return " ".join(out)


async def test_only_the_patient_exports_their_own_data(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    arranged = await full_record(world, runtime, client)
    admin = await world.admin()
    for path in ("/api/me/export.json", "/api/me/export.pdf"):
        for person in (arranged.doctor, admin):
            refused = await client.get(path, headers=person.headers)
            assert refused.status_code == 403
            assert refused.headers["content-type"] == "application/problem+json"
        assert (await client.get(path)).status_code == 401
    other = await world.patient(arranged.doctor, family="Autrui", given="Paul", with_account=True)
    assert isinstance(other, Person)
    mine = await client.get("/api/me/export.json", headers=other.headers)
    assert mine.status_code == 200
    assert arranged.record.id not in mine.text and "Quenouille" not in mine.text and SUMMARY not in mine.text
    assert await export_events(runtime, arranged.record.id) == []
