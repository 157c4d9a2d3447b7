"""The FHIR R4 façade: fr-core shaped resources, searches, OperationOutcome errors."""

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient as FhirPatient
from httpx import AsyncClient

from telesante.identifiers.systems import INS_NIR_TEST, INS_TYPE_SYSTEM, RPPS
from tests.fixtures.world import World

FHIR_JSON = "application/fhir+json"


def entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    Bundle.model_validate(bundle)
    return [e["resource"] for e in bundle.get("entry", [])]


async def test_metadata_is_a_capability_statement(client: AsyncClient) -> None:
    response = await client.get("/fhir/R4/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    statement = response.json()
    assert statement["fhirVersion"] == "4.0.1"
    kinds = {r["type"] for r in statement["rest"][0]["resource"]}
    assert {"Patient", "Practitioner", "PractitionerRole", "Organization", "AuditEvent", "Consent"} <= kinds
    observation = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Observation")
    assert {i["code"] for i in observation["interaction"]} == {"read", "search-type", "create"}
    assert {i["code"] for i in statement["rest"][0]["interaction"]} == {"batch", "transaction"}


async def test_anonymous_calls_get_401_operation_outcome(client: AsyncClient) -> None:
    for path in ("/fhir/R4/Patient", "/fhir/R4/Practitioner", "/fhir/R4/Organization/x"):
        response = await client.get(path)
        assert response.status_code == 401
        assert response.headers["content-type"] == FHIR_JSON
        assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_qualified_patient_carries_the_ins_and_its_reliability(
    client: AsyncClient, world: World
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    response = await client.get(f"/fhir/R4/Patient/{patient.id}", headers=doctor.headers)
    assert response.status_code == 200 and response.headers["content-type"] == FHIR_JSON
    resource = response.json()
    FhirPatient.model_validate(resource)
    assert resource["meta"]["profile"] == [
        "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"
    ]
    [ins] = resource["identifier"]
    assert ins["system"] == INS_NIR_TEST and ins["value"] == patient.ins_matricule
    assert ins["type"]["coding"][0] == {"system": INS_TYPE_SYSTEM, "code": "INS-NIR-TEST"}
    status = resource["extension"][0]["extension"][0]["valueCoding"]["code"]
    assert status == "QUAL"
    assert resource["name"][0] | {"extension": None} == {
        "use": "official",
        "family": "Durand",
        "given": ["Marie"],
        "extension": None,
    }
    assert resource["gender"] == "female" and resource["birthDate"] == "1985-05-17"


async def test_an_unqualified_identity_never_exposes_the_matricule(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor, status="VALI")
    resource = (await client.get(f"/fhir/R4/Patient/{patient.id}", headers=doctor.headers)).json()
    assert "identifier" not in resource
    assert resource["meta"]["profile"] == ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"]


async def test_patient_search_by_identifier_name_and_birthdate(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    marie = await world.patient(doctor)
    await world.patient(doctor, family="Leroy", given="Paul", sex="M")
    found = await client.get(
        "/fhir/R4/Patient",
        params={"identifier": f"{INS_NIR_TEST}|{marie.ins_matricule}"},
        headers=doctor.headers,
    )
    assert [r["id"] for r in entries(found.json())] == [marie.id]
    other_system = await client.get(
        "/fhir/R4/Patient",
        params={"identifier": f"urn:oid:9.9|{marie.ins_matricule}"},
        headers=doctor.headers,
    )
    assert entries(other_system.json()) == []
    by_name = await client.get("/fhir/R4/Patient", params={"name": "ler"}, headers=doctor.headers)
    assert [r["name"][0]["family"] for r in entries(by_name.json())] == ["Leroy"]
    by_birth = await client.get(
        "/fhir/R4/Patient", params={"birthdate": "eq1985-05-17"}, headers=doctor.headers
    )
    assert len(entries(by_birth.json())) == 2


async def test_search_pages_with_a_next_link(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    for family in ("Aubert", "Blanc", "Colin"):
        await world.patient(doctor, family=family)
    first = (await client.get("/fhir/R4/Patient", params={"_count": 2}, headers=doctor.headers)).json()
    assert len(entries(first)) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await client.get(next_url, headers=doctor.headers)).json()
    assert [r["name"][0]["family"] for r in entries(second)] == ["Colin"]
    bad = await client.get("/fhir/R4/Patient", params={"_count": "lots"}, headers=doctor.headers)
    assert bad.status_code == 422 and bad.json()["resourceType"] == "OperationOutcome"


async def test_patients_outside_the_care_team_are_invisible(client: AsyncClient, world: World) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    patient = await world.patient(doctor)
    read = await client.get(f"/fhir/R4/Patient/{patient.id}", headers=stranger.headers)
    assert read.status_code == 404 and read.json()["resourceType"] == "OperationOutcome"
    search = await client.get(
        "/fhir/R4/Patient", params={"identifier": patient.ins_matricule}, headers=stranger.headers
    )
    assert entries(search.json()) == []


async def test_practitioner_role_and_organization(client: AsyncClient, world: World) -> None:
    admin = await world.admin()
    organisation = await world.organisation("Centre hospitalier Saint-Roch", "hospital")
    created = await client.post(
        "/api/professionals",
        headers=admin.headers,
        json={
            "rpps": "10100473148",
            "family_name": "Benali",
            "given_name": "Karim",
            "profession": "physician",
            "specialty": "Dermatologie",
            "organisation_ids": [organisation.id],
        },
    )
    professional_id = created.json()["id"]
    by_rpps = await client.get(
        "/fhir/R4/Practitioner", params={"identifier": f"{RPPS}|10100473148"}, headers=admin.headers
    )
    [practitioner] = entries(by_rpps.json())
    assert practitioner["id"] == professional_id
    assert practitioner["identifier"][0]["system"] == RPPS
    legacy = await client.get(
        "/fhir/R4/Practitioner", params={"identifier": "http://rpps.fr|10100473148"}, headers=admin.headers
    )
    assert len(entries(legacy.json())) == 1
    roles = await client.get(
        "/fhir/R4/PractitionerRole",
        params={"practitioner": f"Practitioner/{professional_id}"},
        headers=admin.headers,
    )
    [role] = entries(roles.json())
    assert role["organization"]["reference"] == f"Organization/{organisation.id}"
    assert role["specialty"][0]["text"] == "Dermatologie"
    assert (
        await client.get(f"/fhir/R4/PractitionerRole/{role['id']}", headers=admin.headers)
    ).status_code == 200
    org = (await client.get(f"/fhir/R4/Organization/{organisation.id}", headers=admin.headers)).json()
    assert org["identifier"][0]["system"] == "https://finess.esante.gouv.fr"
    assert org["identifier"][0]["value"] == organisation.finess
    by_finess = await client.get(
        "/fhir/R4/Organization", params={"identifier": organisation.finess}, headers=admin.headers
    )
    assert [r["id"] for r in entries(by_finess.json())] == [organisation.id]
    missing = await client.get("/fhir/R4/Practitioner/nope", headers=admin.headers)
    assert missing.status_code == 404 and missing.json()["issue"][0]["code"] == "not-found"
