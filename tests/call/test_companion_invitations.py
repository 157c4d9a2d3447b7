"""The professional invites a companion at the patient's side: with a Telesante account (by RPPS)
or a one-time link; at most four participants; the invitation opens the call, not the record."""

from httpx import AsyncClient

from tests.call.conftest import Call
from tests.fixtures.world import World


def invitations(call: Call) -> str:
    return f"/api/teleconsultations/{call.appointment.id}/call/invitations"


async def test_an_invited_nurse_gets_a_join_token_and_a_notification_but_not_the_record(
    client: AsyncClient, world: World, call: Call
) -> None:
    nurse = await world.professional("Petit", profession="nurse", specialty=None)
    assert nurse.professional and call.patient.patient
    token_url = f"/api/teleconsultations/{call.appointment.id}/call/token"
    assert (await client.post(token_url, headers=nurse.headers)).status_code == 404  # not yet invited
    invited = await client.post(
        invitations(call), headers=call.doctor.headers, json={"rpps": nurse.professional.rpps}
    )
    assert invited.status_code == 201, invited.text
    assert invited.json()["with_account"] is True
    assert invited.json()["url"] == f"/teleconsultations/{call.appointment.id}/appel"
    inbox = (await client.get("/api/notifications", headers=nurse.headers)).json()
    assert [n["title"] for n in inbox] == ["Invitation à une téléconsultation"]
    joined = await client.post(token_url, headers=nurse.headers)
    assert joined.status_code == 200 and joined.json()["token"].startswith("tsj_")
    # The call, not the patient's record.
    record = await client.get(f"/api/patients/{call.patient.patient.id}", headers=nurse.headers)
    assert record.status_code == 404
    # Inviting her twice is one invitation, not two participants.
    again = await client.post(
        invitations(call), headers=call.doctor.headers, json={"rpps": nurse.professional.rpps}
    )
    assert again.status_code == 201


async def test_who_may_be_invited_and_by_whom(client: AsyncClient, world: World, call: Call) -> None:
    arm = await world.professional("Garnier", profession="call_taker", specialty=None)
    assert arm.professional and call.doctor.professional
    cases = [
        ({"rpps": "12345678901"}, 422, "aucun professionnel inscrit"),
        ({"rpps": arm.professional.rpps}, 422, "professionnel de santé ou un psychologue"),
        ({"rpps": call.doctor.professional.rpps}, 422, "déjà"),
        ({"rpps": "123"}, 422, "rpps"),
        ({"display_name": "Infirmière Petit", "rpps": arm.professional.rpps}, 422, "soit un nom"),
        ({}, 422, "soit un nom"),
    ]
    for body, status, words in cases:
        response = await client.post(invitations(call), headers=call.doctor.headers, json=body)
        assert response.status_code == status, (body, response.text)
        assert words in response.text, (body, response.text)
    by_patient = await client.post(
        invitations(call), headers=call.patient.headers, json={"display_name": "Mon fils"}
    )
    assert by_patient.status_code == 403


async def test_at_most_four_participants_whatever_the_kind_of_invitation(
    client: AsyncClient, world: World, call: Call
) -> None:
    nurse = await world.professional("Petit", profession="nurse", specialty=None)
    psychologist = await world.professional("Morel", profession="psychologist", specialty=None)
    assert nurse.professional and psychologist.professional
    first = await client.post(
        invitations(call), headers=call.doctor.headers, json={"rpps": nurse.professional.rpps}
    )
    second = await client.post(
        invitations(call), headers=call.doctor.headers, json={"display_name": "Pharmacien Roux"}
    )
    third = await client.post(
        invitations(call), headers=call.doctor.headers, json={"rpps": psychologist.professional.rpps}
    )
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 409)
    assert "au plus 4 participants" in third.json()["detail"]
