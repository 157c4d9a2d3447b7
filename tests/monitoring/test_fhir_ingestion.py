"""Devices send FHIR Observations: one, a batch (the good entries kept), a transaction (all or nothing)."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from httpx import AsyncClient

from tests.fixtures.world import World
from tests.monitoring.conftest import (
    FHIR_JSON,
    Followed,
    ago,
    blood_pressure,
    bundle,
    glucose,
    measurements,
    register_device,
)


async def test_one_observation_is_stored_once(client: AsyncClient, followed: Followed) -> None:
    reading = glucose(112, ago(minutes=5))
    created = await client.post("/fhir/R4/Observation", headers=followed.device_headers, json=reading)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith(FHIR_JSON)
    resource = Observation.model_validate(created.json())
    assert created.headers["location"].endswith(f"/fhir/R4/Observation/{resource.id}")
    assert resource.valueQuantity is not None and resource.valueQuantity.value == 112
    again = await client.post("/fhir/R4/Observation", headers=followed.device_headers, json=reading)
    assert again.status_code == 200  # a duplicate: said so, stored once
    assert again.json()["id"] == resource.id
    [stored] = await measurements(client, followed)
    assert (stored["value"], stored["unit"], stored["source"]) == (112, "mg/dL", "fhir")


async def test_mmol_per_litre_is_stored_in_mg_per_decilitre_with_what_was_sent(
    client: AsyncClient, followed: Followed
) -> None:
    response = await client.post(
        "/fhir/R4/Observation",
        headers=followed.device_headers,
        json=glucose(5.5, ago(minutes=5), unit="mmol/L", code="105272-9"),
    )
    assert response.status_code == 201, response.text
    [stored] = await measurements(client, followed)
    assert stored["value"] == 99.088  # 5.5 × 18.016
    assert (stored["value_sent"], stored["unit_sent"]) == ("5.5", "mmol/L")


async def test_an_impossible_value_is_refused_in_french_and_stored_nowhere(
    client: AsyncClient, followed: Followed
) -> None:
    response = await client.post(
        "/fhir/R4/Observation", headers=followed.device_headers, json=glucose(900, ago(minutes=5))
    )
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert response.json()["resourceType"] == "OperationOutcome"
    assert issue["details"]["text"] == "glycémie 900 mg/dL hors des valeurs physiologiques (40–500 mg/dL)"
    assert await measurements(client, followed) == []


async def test_malformed_observations_say_what_is_wrong(client: AsyncClient, followed: Followed) -> None:
    at = ago(minutes=5)
    cases = {
        "code : aucun code LOINC": {
            **glucose(100, at),
            "code": {"coding": [{"system": "http://loinc.org", "code": "1-8"}]},
        },
        "effectiveDateTime : heure et fuseau horaire requis": {
            **glucose(100, at),
            "effectiveDateTime": "2026-11-23",
        },
        "unité « mg » non acceptée": {
            **glucose(100, at),
            "valueQuantity": {"value": 100, "system": "http://unitsofmeasure.org", "code": "mg"},
        },
        "status « entered-in-error »": {**glucose(100, at), "status": "entered-in-error"},
        "subject : ce patient n'est pas celui de l'appareil": {
            **glucose(100, at),
            "subject": {"reference": "Patient/x"},
        },
        "dans le futur": glucose(100, datetime.now(UTC) + timedelta(hours=2)),
        "pression systolique": {**blood_pressure(150, 90, at), "component": []},
    }
    for expected, resource in cases.items():
        response = await client.post("/fhir/R4/Observation", headers=followed.device_headers, json=resource)
        assert response.status_code == 422, (expected, response.text)
        assert expected in response.json()["issue"][0]["details"]["text"], response.text
    assert await measurements(client, followed) == []


async def test_the_blood_pressure_panel_is_one_observation_of_two_components(
    client: AsyncClient, followed: Followed
) -> None:
    created = await client.post(
        "/fhir/R4/Observation", headers=followed.device_headers, json=blood_pressure(185, 95, ago(minutes=3))
    )
    assert created.status_code == 201, created.text
    panel = created.json()
    assert panel["code"]["coding"][0]["code"] == "85354-9"
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"]) for c in panel["component"]] == [
        ("8480-6", 185),
        ("8462-4", 95),
    ]
    assert sorted(m["kind"] for m in await measurements(client, followed)) == ["diastolic", "systolic"]
    read = await client.get(f"/fhir/R4/Observation/{panel['id']}", headers=followed.doctor.headers)
    assert read.status_code == 200 and read.json()["component"] == panel["component"]
    inverted = await client.post(
        "/fhir/R4/Observation", headers=followed.device_headers, json=blood_pressure(80, 95, ago(minutes=2))
    )
    assert inverted.status_code == 422
    assert "inférieure ou égale à la diastolique" in inverted.json()["issue"][0]["details"]["text"]


async def test_a_batch_keeps_the_good_entries_and_names_the_bad_one(
    client: AsyncClient, followed: Followed
) -> None:
    at = ago(minutes=30)
    sent = bundle(
        "batch",
        glucose(120, at),
        glucose(900, at + timedelta(minutes=5)),
        glucose(118, at + timedelta(minutes=10)),
        glucose(120, at),  # the first one again
    )
    response = await client.post("/fhir/R4", headers=followed.device_headers, json=sent)
    assert response.status_code == 200, response.text
    answer = Bundle.model_validate(response.json())
    assert answer.type == "batch-response"
    statuses = [e.response.status for e in answer.entry or [] if e.response]
    assert statuses == ["201 Created", "422 Unprocessable Entity", "201 Created", "200 OK"]
    refused = response.json()["entry"][1]["response"]["outcome"]["issue"][0]
    assert (
        refused["details"]["text"]
        == "entrée 1 : glycémie 900 mg/dL hors des valeurs physiologiques (40–500 mg/dL)"
    )
    assert refused["expression"] == ["Bundle.entry[1]"]
    assert (
        response.json()["entry"][3]["response"]["location"]
        == response.json()["entry"][0]["response"]["location"]
    )
    assert [m["value"] for m in await measurements(client, followed)] == [120, 118]


async def test_a_transaction_with_one_bad_entry_stores_nothing(
    client: AsyncClient, followed: Followed
) -> None:
    at = ago(minutes=30)
    bad = {**glucose(100, at + timedelta(minutes=5)), "valueQuantity": {"value": 100, "code": "g/L"}}
    sent = bundle("transaction", glucose(120, at), bad, glucose(118, at + timedelta(minutes=10)))
    response = await client.post("/fhir/R4", headers=followed.device_headers, json=sent)
    assert response.status_code == 422, response.text
    text = response.json()["issue"][0]["details"]["text"]
    assert text.startswith("entrée 1 : unité « g/L » non acceptée pour glycémie")
    assert await measurements(client, followed) == []
    good = bundle("transaction", glucose(120, at), glucose(118, at + timedelta(minutes=10)))
    stored = await client.post("/fhir/R4", headers=followed.device_headers, json=good)
    assert stored.status_code == 200, stored.text
    assert stored.json()["type"] == "transaction-response"
    assert [e["response"]["status"] for e in stored.json()["entry"]] == ["201 Created"] * 2
    unparsable = bundle("transaction", glucose(121, at), {"resourceType": "Patient"})
    refused = await client.post("/fhir/R4", headers=followed.device_headers, json=unparsable)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["details"]["text"] == "entrée 1 : ressource Observation attendue"
    assert len(await measurements(client, followed)) == 2


async def test_device_clocks_in_any_time_zone_are_one_instant(
    client: AsyncClient, followed: Followed
) -> None:
    instant = ago(minutes=40).replace(microsecond=0)
    kiribati = instant.astimezone(timezone(timedelta(hours=14)))
    marquesas = instant.astimezone(timezone(-timedelta(hours=9, minutes=30)))
    first = await client.post(
        "/fhir/R4/Observation", headers=followed.device_headers, json=glucose(140, kiribati)
    )
    second = await client.post(
        "/fhir/R4/Observation", headers=followed.device_headers, json=glucose(140, marquesas)
    )
    assert (first.status_code, second.status_code) == (201, 200)
    [stored] = await measurements(client, followed)
    assert datetime.fromisoformat(stored["effective_at"]) == instant
    assert stored["effective_at"].endswith(("Z", "+00:00"))


async def test_late_and_out_of_order_readings_are_accepted(client: AsyncClient, followed: Followed) -> None:
    now = ago(minutes=1)
    sent = bundle(
        "batch",
        glucose(130, now),
        glucose(110, now - timedelta(minutes=50)),
        glucose(120, now - timedelta(minutes=20)),
    )
    assert (await client.post("/fhir/R4", headers=followed.device_headers, json=sent)).status_code == 200
    late = await client.post(
        "/fhir/R4/Observation",
        headers=followed.device_headers,
        json=glucose(105, now - timedelta(minutes=90)),
    )
    assert late.status_code == 201
    assert [m["value"] for m in await measurements(client, followed)] == [
        105,
        110,
        120,
        130,
    ]  # by effective time


async def test_tokens_other_than_a_live_device_token_are_refused(
    client: AsyncClient, world: World, followed: Followed
) -> None:
    reading = glucose(100, ago(minutes=5))
    for headers in (
        {},
        {"Authorization": "Bearer tsd_not-a-token"},
        followed.doctor.headers,  # a user's API token is not a device's
    ):
        response = await client.post("/fhir/R4/Observation", headers=headers, json=reading)
        assert response.status_code == 401, headers
        assert response.json()["resourceType"] == "OperationOutcome"
    spare = await register_device(client, followed.doctor, followed.program_id, kind="glucometer")
    spare_headers = {"Authorization": f"Bearer {spare['token']}"}
    assert (await client.post("/fhir/R4/Observation", headers=spare_headers, json=reading)).status_code == 201
    revoked = await client.post(
        f"/api/monitoring/programs/{followed.program_id}/devices/{spare['id']}/revoke",
        headers=followed.doctor.headers,
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    again = await client.post(
        "/fhir/R4/Observation", headers=spare_headers, json=glucose(101, ago(minutes=4))
    )
    assert again.status_code == 401
    listed = await client.get(
        f"/api/monitoring/programs/{followed.program_id}/devices", headers=followed.doctor.headers
    )
    assert "token" not in listed.json()[0] and len(listed.json()) == 2


async def test_a_device_token_reads_nothing(client: AsyncClient, followed: Followed) -> None:
    await client.post(
        "/fhir/R4/Observation", headers=followed.device_headers, json=glucose(100, ago(minutes=5))
    )
    assert followed.patient.patient is not None
    patient_id = followed.patient.patient.id
    for url in (
        f"/fhir/R4/Observation?patient={patient_id}",
        f"/fhir/R4/DetectedIssue?patient={patient_id}",
        f"/fhir/R4/Patient/{patient_id}",
        f"/api/monitoring/patients/{patient_id}/measurements",
        "/api/monitoring/alerts",
    ):
        response = await client.get(url, headers={"Authorization": f"Bearer {followed.token}"})
        assert response.status_code == 401, url


async def test_professionals_search_observations_by_patient_code_and_date(
    client: AsyncClient, followed: Followed
) -> None:
    now = ago(minutes=1)
    sent = bundle(
        "batch", glucose(100, now - timedelta(minutes=60)), glucose(110, now), blood_pressure(130, 80, now)
    )
    assert (await client.post("/fhir/R4", headers=followed.device_headers, json=sent)).status_code == 200
    assert followed.patient.patient is not None
    params = {"patient": f"Patient/{followed.patient.patient.id}", "code": "http://loinc.org|99504-3"}
    found = await client.get("/fhir/R4/Observation", headers=followed.doctor.headers, params=params)
    assert found.status_code == 200, found.text
    result = Bundle.model_validate(found.json())
    assert [e.resource.valueQuantity.value for e in result.entry or []] == [110, 100]  # type: ignore[union-attr]
    recent = await client.get(
        "/fhir/R4/Observation",
        headers=followed.doctor.headers,
        params={**params, "date": f"ge{(now - timedelta(minutes=5)).isoformat()}"},
    )
    assert len(recent.json()["entry"]) == 1
    everything = await client.get(
        "/fhir/R4/Observation",
        headers=followed.patient.headers,
        params={"patient": followed.patient.patient.id},
    )
    assert len(everything.json()["entry"]) == 3  # the patient sees their own; the panel is one Observation


async def test_the_same_reading_sent_concurrently_is_stored_once(
    client: AsyncClient, followed: Followed
) -> None:
    reading = glucose(133, ago(minutes=5))
    answers = await asyncio.gather(
        *(
            client.post("/fhir/R4/Observation", headers=followed.device_headers, json=reading)
            for _ in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len(await measurements(client, followed)) == 1


async def test_measurements_of_a_patient_by_period_and_kind(client: AsyncClient, followed: Followed) -> None:
    now = ago(minutes=1)
    sent = bundle(
        "batch",
        *(glucose(100 + i, now - timedelta(minutes=10 * i)) for i in range(5)),
        blood_pressure(130, 80, now - timedelta(minutes=15)),
    )
    assert (await client.post("/fhir/R4", headers=followed.device_headers, json=sent)).status_code == 200
    assert followed.patient.patient is not None
    url = f"/api/monitoring/patients/{followed.patient.patient.id}/measurements"
    params = {
        "kind": "glucose_cgm",
        "from": (now - timedelta(minutes=30)).isoformat(),
        "to": (now - timedelta(minutes=10)).isoformat(),
    }
    found = await client.get(url, headers=followed.doctor.headers, params=params)
    assert found.status_code == 200, found.text
    assert [m["value"] for m in found.json()] == [103, 102]  # from included, to excluded, oldest first
    both = await client.get(
        url, headers=followed.doctor.headers, params=[("kind", "systolic"), ("kind", "diastolic")]
    )
    assert sorted(m["value"] for m in both.json()) == [80, 130]
    naive = await client.get(url, headers=followed.doctor.headers, params={"from": "2026-11-23T08:00:00"})
    assert naive.status_code == 422
