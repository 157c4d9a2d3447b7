"""Declared in-person activity and the téléconsultation share, through the API."""

from typing import Any

import pytest
from httpx import AsyncClient

from telesante.billing.months import current_month, first_day, year_to
from telesante.runtime import Runtime
from tests.billing.conftest import held, patient_of
from tests.fixtures.world import Person, World
from tests.teleconsultation.conftest import Practice


def next_month() -> str:
    first = first_day(current_month())
    return f"{first.year + first.month // 12}-{first.month % 12 + 1:02d}"


async def share_of(client: AsyncClient, person: Person, month: str) -> dict[str, Any]:
    response = await client.get("/api/billing/share", params={"month": month}, headers=person.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_declaration_is_stored_and_corrected(client: AsyncClient, world: World) -> None:
    doctor = await world.professional("Martin")
    month = current_month()
    first = await client.put(
        f"/api/billing/activity/{month}", json={"in_person_acts": 120}, headers=doctor.headers
    )
    assert first.status_code == 200 and first.json() == {"month": month, "in_person_acts": 120}
    again = await client.put(
        f"/api/billing/activity/{month}", json={"in_person_acts": 80}, headers=doctor.headers
    )
    assert again.status_code == 200 and again.json()["in_person_acts"] == 80
    found = await share_of(client, doctor, month)
    assert found["month_share"] == {
        "counted_teleconsultations": 0,
        "excluded_teleconsultations": 0,
        "in_person_acts": 80,
        "undeclared_months": [],
        "share_percent": 0.0,
        "cap_percent": 20,
        "warning": "ok",
        "message": "",
    }
    assert found["year_to_date"]["in_person_acts"] == 80 and found["cap_source"]


@pytest.mark.parametrize(
    ("month", "body", "field"),
    [
        ("current", {"in_person_acts": -1}, "in_person_acts"),
        ("current", {"in_person_acts": 10001}, "in_person_acts"),
        ("current", {"in_person_acts": "beaucoup"}, "in_person_acts"),
        ("current", {}, "in_person_acts"),
        ("current", {"in_person_acts": 3, "month": "2026-01"}, "month"),  # extra fields refused
        ("next", {"in_person_acts": 3}, "month"),  # not a month to come
        ("2026-13", {"in_person_acts": 3}, "month"),
        ("26-01", {"in_person_acts": 3}, "month"),
    ],
)
async def test_a_declaration_is_checked(
    client: AsyncClient, world: World, month: str, body: dict[str, object], field: str
) -> None:
    doctor = await world.professional("Martin")
    month = {"current": current_month(), "next": next_month()}.get(month, month)
    response = await client.put(f"/api/billing/activity/{month}", json=body, headers=doctor.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["detail"]


async def test_the_bounds_are_accepted(client: AsyncClient, world: World) -> None:
    doctor = await world.professional("Martin")
    for count in (0, 10000):
        response = await client.put(
            f"/api/billing/activity/{current_month()}", json={"in_person_acts": count}, headers=doctor.headers
        )
        assert response.status_code == 200, response.text


async def test_only_a_professional_declares_and_sees_a_share(client: AsyncClient, world: World) -> None:
    doctor = await world.professional("Martin")
    patient = await world.patient(doctor, with_account=True)
    assert isinstance(patient, Person)
    month = current_month()
    put = await client.put(
        f"/api/billing/activity/{month}", json={"in_person_acts": 1}, headers=patient.headers
    )
    assert put.status_code == 403
    got = await client.get("/api/billing/share", params={"month": month}, headers=patient.headers)
    assert got.status_code == 403
    assert (await client.get("/api/billing/share", params={"month": month})).status_code == 401


async def test_a_psychiatrist_has_a_40_percent_cap(client: AsyncClient, world: World) -> None:
    psychiatrist = await world.professional("Roux", specialty="Psychiatrie")
    found = await share_of(client, psychiatrist, current_month())
    assert found["month_share"]["cap_percent"] == found["year_to_date"]["cap_percent"] == 40


@pytest.mark.parametrize(
    ("path", "month"),
    [
        ("share", "2019-05"),  # before any cap
        ("share", "9999-12"),
        ("share", "2026-13"),
        ("lines", "0001-01"),
        ("lines", "2026-00"),
    ],
)
async def test_a_month_out_of_reach_is_refused(
    client: AsyncClient, world: World, path: str, month: str
) -> None:
    doctor = await world.professional("Martin")
    response = await client.get(f"/api/billing/{path}", params={"month": month}, headers=doctor.headers)
    assert response.status_code == 422 and "month" in response.json()["detail"]


async def test_the_share_leaves_the_gp_own_patients_out(
    client: AsyncClient,
    live_server: str,
    world: World,
    runtime: Runtime,
    practice: Practice,
    other_gp: Person,
) -> None:
    own = await patient_of(client, world, runtime, practice, practice.doctor)
    referred = await patient_of(client, world, runtime, practice, other_gp)
    await held(client, live_server, runtime, practice, own, referred=False)
    await held(client, live_server, runtime, practice, referred, referred=True)
    month, doctor = current_month(), practice.doctor

    undeclared = await share_of(client, doctor, month)
    assert undeclared["month_share"]["counted_teleconsultations"] == 1
    assert undeclared["month_share"]["excluded_teleconsultations"] == 1
    assert undeclared["month_share"]["undeclared_months"] == [month]
    assert undeclared["month_share"]["share_percent"] == 50.0
    assert undeclared["month_share"]["warning"] == "over"
    assert "Déclarez votre activité en présentiel" in undeclared["month_share"]["message"]
    assert undeclared["year_to_date"]["warning"] == "over"

    await client.put(f"/api/billing/activity/{month}", json={"in_person_acts": 98}, headers=doctor.headers)
    declared = await share_of(client, doctor, month)
    assert declared["month_share"]["share_percent"] == 1.0  # 1 counted out of 100 acts
    assert declared["month_share"]["warning"] == "ok" and declared["month_share"]["message"] == ""
    if len(year_to(month)) > 1:  # an earlier month of the year adds to the year to date only
        earlier = year_to(month)[0]
        await client.put(
            f"/api/billing/activity/{earlier}", json={"in_person_acts": 50}, headers=doctor.headers
        )
        found = await share_of(client, doctor, month)
        assert found["year_to_date"]["in_person_acts"] == 148 and found["month_share"]["in_person_acts"] == 98
