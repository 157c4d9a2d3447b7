"""TE2 for the requis, RQD for the requérant, with their rules; the 5th TE2 of the year for a
patient is not produced and the answer says why (billing.md)."""

from httpx import AsyncClient
from sqlalchemy import select

from telesante.billing.models import BillingLine
from telesante.runtime import Runtime
from telesante.teleexpertise.billing import CAPS
from tests.teleexpertise.conftest import ANSWER, Team, created


async def test_lines_and_the_yearly_cap(client: AsyncClient, team: Team, runtime: Runtime) -> None:
    billed = []
    for _ in range(5):
        request = await created(client, team)
        answered = await client.post(
            f"/api/expert-requests/{request['id']}/answers", json=ANSWER, headers=team.expert.headers
        )
        assert answered.status_code == 201, answered.text
        billed.append(answered.json()["billing"])
    first = {line["code"]: line for line in billed[0]}
    assert first["TE2"]["produced"] and first["TE2"]["amount_cents"] in (2000, 2300)
    assert first["RQD"]["produced"] and first["RQD"]["amount_cents"] == 1000
    assert {r["name"] for r in first["TE2"]["rules"]} >= {"requis_medical", "answered_in_time", "yearly_cap"}
    [fifth] = billed[4]
    assert fifth["code"] == "TE2" and fifth["produced"] is False
    assert "4 TE2 déjà facturé(s)" in fifth["reason"] and "plafond 4" in fifth["reason"]
    async with runtime.sessionmaker() as db:
        lines = (await db.scalars(select(BillingLine).where(BillingLine.act_type == "teleexpertise"))).all()
    assert sorted(line.code for line in lines) == ["RQD"] * 4 + ["TE2"] * 4
    assert team.expert.professional and team.requester.professional
    assert {line.professional_id for line in lines if line.code == "TE2"} == {team.expert.professional.id}
    assert {line.professional_id for line in lines if line.code == "RQD"} == {team.requester.professional.id}
    shown = await client.get(f"/api/expert-requests/{request['id']}", headers=team.requester.headers)
    assert shown.json()["answers"][0]["billing"][0]["reason"] == fifth["reason"]


def test_the_rqd_cap_is_marked_unverified() -> None:
    assert CAPS["TE2"].verified and CAPS["TE2"].per_patient == 4
    assert not CAPS["RQD"].verified
