"""Sharing through the API: only the file's own room may, the message is queued in the request's
transaction, and the partners a file was shared with hear of its missions and bilans."""

import hubsante_model as ans  # type: ignore[import-untyped]
import pytest
from httpx import AsyncClient
from sqlalchemy import select

from telesante.audit.models import AuditEvent
from telesante.db import commit
from telesante.regulation.hub import envelope, messages, outbox, service
from telesante.regulation.models import Bilan, HubMessage, Mission
from telesante.runtime import Runtime
from tests.regulation.conftest import Room, ok, opened
from tests.regulation.hub.conftest import Samu, regulated, share

LYON, GRENOBLE, SDIS = "fr.health.samu069", "fr.health.samu038", "fr.fire.nexsis.sdis69"


@pytest.fixture
def hub_id(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(runtime.settings, "hub_client_id", LYON)
    return LYON


async def test_only_the_files_own_room_may_share_it_and_it_is_audited(
    client: AsyncClient, room: Room, hub_id: str, runtime: Runtime
) -> None:
    file = await opened(client, room)
    assert (
        await share(client, file["id"], room.elsewhere, GRENOBLE)
    ).status_code == 404  # as if it did not exist
    assert (await share(client, file["id"], room.outsider, GRENOBLE)).status_code == 403
    assert (await share(client, file["id"], room.patient, GRENOBLE)).status_code == 403
    assert (
        await client.get(f"/api/regulation/files/{file['id']}/hub", headers=room.elsewhere.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/regulation/files/{file['id']}/hub", headers=room.patient.headers)
    ).status_code == 403
    queued = ok(await share(client, file["id"], room.arm, GRENOBLE), 202)
    assert (queued["kind"], queued["peer"], queued["status"], queued["direction"]) == (
        "RS-EDA",
        GRENOBLE,
        "pending",
        "out",
    )
    listed = ok(await client.get(f"/api/regulation/files/{file['id']}/hub", headers=room.urgentist.headers))
    assert [m["id"] for m in listed] == [queued["id"]]
    async with runtime.sessionmaker() as db:
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "share", AuditEvent.outcome == "success")
        )
    assert event is not None and event.resource_id == file["id"]
    assert event.actor_user_id == room.arm.user.id and event.reason == f"Hub Santé RS-EDA vers {GRENOBLE}"


WRONG = [
    (SDIS, "RS-EDA"),  # a DRM to firemen
    (GRENOBLE, "RC-EDA"),  # a CISU case to a SAMU
    ("samu038", "RS-EDA"),  # not a Hub id
    (LYON, "RS-EDA"),  # to itself
    (GRENOBLE, "RS-SR"),  # not a kind one shares
]


async def test_a_share_that_cannot_go_is_refused(
    client: AsyncClient, samu: Samu, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = await regulated(client, samu)
    monkeypatch.setattr(runtime.settings, "hub_client_id", None)
    refused = await share(client, file["id"], samu.regulator, GRENOBLE)
    assert refused.status_code == 409 and "TELESANTE_HUB_CLIENT_ID" in refused.json()["detail"]
    monkeypatch.setattr(runtime.settings, "hub_client_id", LYON)
    for recipient, kind in WRONG:
        answer = await share(client, file["id"], samu.regulator, recipient, kind)
        assert answer.status_code == 422, (recipient, kind)
    listed = f"/api/regulation/files/{file['id']}/hub"
    assert ok(await client.get(listed, headers=samu.regulator.headers)) == []


async def test_a_rolled_back_transaction_sends_nothing(runtime: Runtime) -> None:
    async with runtime.sessionmaker() as db:
        await outbox.send(db, "RC-REF", GRENOBLE, messages.reference(f"{GRENOBLE}_1"), sender=LYON)
        await db.rollback()
    async with runtime.sessionmaker() as db:
        assert list(await db.scalars(select(HubMessage))) == []


async def test_missions_and_bilans_follow_the_file_to_the_samus_it_was_shared_with(
    client: AsyncClient, samu: Samu, hub_id: str, runtime: Runtime
) -> None:
    file = await regulated(client, samu, patient_name="Marie Durand")
    decision = {"kind": "INTER", "resource_id": samu.smur_id}
    decide = f"/api/regulation/files/{file['id']}/decisions"
    ok(await client.post(decide, json=decision, headers=samu.regulator.headers), 201)
    for recipient, kind in [(GRENOBLE, "RS-EDA"), ("fr.health.samu001", "RS-EDA"), (SDIS, "RC-EDA")]:
        ok(await share(client, file["id"], samu.regulator, recipient, kind), 202)
    async with runtime.sessionmaker() as db:
        mission = await db.scalar(select(Mission).where(Mission.file_id == file["id"]))
        assert mission is not None
        statuses = await service.on_mission_status(db, mission, "DEPART")
        bilan = Bilan(mission_id=mission.id, file_id=file["id"], vitals={"heart_rate": 112, "spo2": 94})
        db.add(bilan)
        await db.flush()
        bilans = await service.on_bilan(db, bilan)
        await commit(db)
    assert (
        sorted(m.peer for m in statuses) == sorted(m.peer for m in bilans) == ["fr.health.samu001", GRENOBLE]
    )
    for sent, model in [
        (statuses[0], ans.ResourcesStatusWrapper),
        (bilans[0], ans.InterventionReportWrapper),
    ]:
        parsed = envelope.parse(sent.envelope.encode())
        assert parsed.sender_id == LYON and parsed.kind == "Update"
        root = "resourcesStatus" if sent.kind == "RS-SR" else "interventionReport"
        model.model_validate({root: parsed.message[root]})
        assert parsed.message[root]["caseId"] == file["case_id"]
