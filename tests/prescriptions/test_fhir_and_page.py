"""MedicationRequest / MedicationDispense through the access gate, and the pharmacy page."""

from typing import Any

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from sqlalchemy import text

from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.prescriptions.conftest import Cast, audit_count, prescribe


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    Bundle.model_validate(bundle)
    return [e["resource"] for e in bundle.get("entry", [])]


async def test_medication_requests_one_per_line_grouped_by_the_number(
    rx: httpx.AsyncClient, cast: Cast
) -> None:
    public_id = await prescribe(rx, cast)
    await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 0}]},
        headers=cast.pharmacist.headers,
    )
    for reader in (cast.doctor, cast.patient):
        response = await rx.get(
            f"/fhir/R4/MedicationRequest?patient=Patient/{cast.patient_id}", headers=reader.headers
        )
        assert response.status_code == 200 and response.headers["content-type"] == "application/fhir+json"
        found = resources(response.json())
        assert len(found) == 2
        for resource in found:
            MedicationRequest.model_validate(resource)
            assert resource["groupIdentifier"]["value"] == public_id
            assert resource["subject"] == {"reference": f"Patient/{cast.patient_id}"}
        first, second = found
        assert first["status"] == "completed" and second["status"] == "active"
        assert first["substitution"] == {"allowedBoolean": True}
        assert second["substitution"]["allowedBoolean"] is False
        assert second["substitution"]["reason"]["coding"][0]["code"] == "MTE"
        assert second["dispenseRequest"]["numberOfRepeatsAllowed"] == 2
        assert second["dosageInstruction"] == [{"text": "1 comprimé le matin à jeun"}]

    response = await rx.get(
        f"/fhir/R4/MedicationDispense?prescription={public_id}", headers=cast.patient.headers
    )
    [dispense] = resources(response.json())
    MedicationDispense.model_validate(dispense)
    assert dispense["authorizingPrescription"] == [{"reference": f"MedicationRequest/{found[0]['id']}"}]
    assert dispense["performer"][0]["actor"]["reference"].startswith("Practitioner/")


async def test_outsiders_and_the_pharmacist_do_not_read_them_through_fhir(
    rx: httpx.AsyncClient, cast: Cast, world: World
) -> None:
    public_id = await prescribe(rx, cast)
    stranger = await world.professional("Inconnu")
    for person in (stranger, cast.pharmacist):
        response = await rx.get(
            f"/fhir/R4/MedicationRequest?patient={cast.patient_id}", headers=person.headers
        )
        assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome"
        response = await rx.get(
            f"/fhir/R4/MedicationDispense?prescription={public_id}", headers=person.headers
        )
        assert response.status_code == 404
    missing = await rx.get("/fhir/R4/MedicationRequest", headers=cast.doctor.headers)
    assert missing.status_code == 422 and missing.json()["resourceType"] == "OperationOutcome"


async def test_an_altered_prescription_is_not_served_as_fhir(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    async with runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE prescriptions SET key_id = 'ed25519-0000000000000000'"))
    response = await rx.get(
        f"/fhir/R4/MedicationRequest?patient={cast.patient_id}", headers=cast.doctor.headers
    )
    assert resources(response.json()) == []
    response = await rx.get(
        f"/fhir/R4/MedicationDispense?prescription={public_id}", headers=cast.doctor.headers
    )
    assert resources(response.json()) == []


async def test_the_pharmacy_page_verifies_and_dispenses_a_line(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    empty = await rx.get("/pharmacie", headers=cast.pharmacist.headers)
    assert empty.status_code == 200 and 'name="id"' in empty.text
    shown = await rx.get(f"/pharmacie?id={public_id.lower()}", headers=cast.pharmacist.headers)
    assert shown.status_code == 200
    assert "Signature vérifiée" in shown.text and "lévothyroxine sodique" in shown.text
    assert f'action="/pharmacie/{public_id}/lignes/0"' in shown.text
    assert 'name="csrf_token"' in shown.text
    assert await audit_count(runtime, action="verify", resource_id=public_id) == 1

    done = await rx.post(f"/pharmacie/{public_id}/lignes/0", headers=cast.pharmacist.headers)
    assert done.status_code == 303 and done.headers["location"] == f"/pharmacie?id={public_id}"
    after = await rx.get(done.headers["location"], headers=cast.pharmacist.headers)
    assert "Entièrement délivrée" in after.text
    again = await rx.post(f"/pharmacie/{public_id}/lignes/0", headers=cast.pharmacist.headers)
    assert again.status_code == 409 and "déjà délivrée" in again.text
    async with runtime.sessionmaker() as db:
        assert (await db.execute(text("SELECT count(*) FROM dispensations"))).scalar_one() == 1


async def test_the_pharmacy_page_is_for_pharmacists_and_hides_unknown_numbers(
    rx: httpx.AsyncClient, cast: Cast
) -> None:
    public_id = await prescribe(rx, cast)
    for person in (cast.doctor, cast.patient):
        assert (await rx.get(f"/pharmacie?id={public_id}", headers=person.headers)).status_code == 403
        assert (await rx.post(f"/pharmacie/{public_id}/lignes/0", headers=person.headers)).status_code == 403
    unknown = await rx.get("/pharmacie?id=ORD-0000000000000000000Z", headers=cast.pharmacist.headers)
    assert unknown.status_code == 404 and "ordonnance introuvable" in unknown.text
    assert (await rx.get("/pharmacie")).status_code == 303  # to the login page


async def test_the_pharmacy_page_refuses_an_altered_prescription(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    async with runtime.engine.begin() as conn:
        await conn.execute(text("UPDATE prescriptions SET key_id = 'ed25519-0000000000000000'"))
    shown = await rx.get(f"/pharmacie?id={public_id}", headers=cast.pharmacist.headers)
    assert "ne pas délivrer" in shown.text and "/lignes/" not in shown.text
    refused = await rx.post(f"/pharmacie/{public_id}/lignes/0", headers=cast.pharmacist.headers)
    assert refused.status_code == 409
