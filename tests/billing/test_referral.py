"""The referral by the médecin traitant, asked at booking, decides the parcours rule of the line."""

from typing import Any

from httpx import AsyncClient

from telesante.billing.months import current_month
from telesante.runtime import Runtime
from tests.billing.conftest import held, patient_of
from tests.fixtures.world import Person, World
from tests.teleconsultation.conftest import Practice


def rule(line: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in line["rules"] if r["name"] == name)
    return found


async def test_referred_is_reimbursable_and_not_referred_is_out_of_the_pathway(
    client: AsyncClient,
    live_server: str,
    world: World,
    runtime: Runtime,
    practice: Practice,
    other_gp: Person,
) -> None:
    # Both patients have another médecin traitant; the doctor (a GP, adults) has no exception to invoke.
    referred = await patient_of(client, world, runtime, practice, other_gp)
    direct = await patient_of(client, world, runtime, practice, other_gp)
    referred_id = await held(client, live_server, runtime, practice, referred, referred=True)
    direct_id = await held(client, live_server, runtime, practice, direct, referred=False)

    response = await client.get(
        "/api/billing/lines", params={"month": current_month()}, headers=practice.doctor.headers
    )
    assert response.status_code == 200, response.text
    lines = {line["act_id"]: line for line in response.json()["lines"]}
    assert lines[referred_id]["reimbursable"] is True and lines[referred_id]["code"] == "TCG"
    assert rule(lines[referred_id], "parcours") == {
        "name": "parcours",
        "ok": True,
        "why": "adressé par le médecin traitant",
    }
    assert lines[direct_id]["reimbursable"] is False
    assert rule(lines[direct_id], "parcours") == {
        "name": "parcours",
        "ok": False,
        "why": "hors parcours de soins : non remboursé",
    }
    assert all(rule(lines[i], "known_patient")["ok"] for i in (referred_id, direct_id))
    assert response.json()["reimbursable_total_cents"] == 2500


async def test_the_booking_refuses_a_referral_that_is_not_a_boolean(
    client: AsyncClient, world: World, practice: Practice
) -> None:
    patient = await world.patient(practice.doctor, with_account=True)
    assert isinstance(patient, Person) and practice.doctor.professional
    response = await client.post(
        "/api/teleconsultations",
        headers=patient.headers,
        json={
            "professional_id": practice.doctor.professional.id,
            "consultation_type_id": practice.type_id,
            "starts_at": "2030-01-07T09:00:00+00:00",
            "referred_by_gp": "peut-être",
        },
    )
    assert response.status_code == 422 and "referred_by_gp" in response.json()["detail"]
