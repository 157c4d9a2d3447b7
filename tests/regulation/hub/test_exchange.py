"""Two centres, each with its own server and database, exchange through a real RabbitMQ: a DRM
shared by one becomes a file of the other, acknowledged back; what cannot be delivered waits;
what is duplicated or broken creates nothing."""

import json
from typing import Any

import hubsante_model as ans  # type: ignore[import-untyped]
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from telesante.regulation.hub import envelope, messages
from telesante.regulation.hub.kinds import ErrorWrapper
from telesante.regulation.models import (
    HubMessage,
    MedicalNote,
    Mission,
    MissionStatus,
    RegulationFile,
    Resource,
)
from telesante.runtime import Runtime
from tests.fixtures.app import free_port
from tests.fixtures.world import World
from tests.regulation.conftest import centre, ok, staff
from tests.regulation.hub.conftest import (
    AT,
    Broker,
    Peer,
    Samu,
    a_file,
    configure,
    eventually,
    regulated,
    running,
    share,
)


async def other_room(other: Runtime) -> str:
    """The second centre's room (one regulator); its id."""
    world = World(other)
    samu = await centre(world, "SAMU 38 – Centre 15")
    await staff(other, samu.id, await world.professional("Isérois", specialty="Médecine d'urgence"), "mru")
    return samu.id


async def shared_file(
    client: AsyncClient, samu: Samu, recipient: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A regulated file of the first centre, shared: (the file, the 202's answer)."""
    file = await regulated(
        client,
        samu,
        caller_phone="06 12 34 56 78",
        patient_name="Marie Durand",
        patient_age=67,
        patient_sex="F",
        whats_happen="Douleur depuis 30 minutes",
    )
    note = {"text": "Antécédent d'infarctus"}
    notes = f"/api/regulation/files/{file['id']}/notes"
    ok(await client.post(notes, json=note, headers=samu.regulator.headers), 201)
    return file, ok(await share(client, file["id"], samu.regulator, recipient), 202)


async def status_of(client: AsyncClient, samu: Samu, file_id: str, message_id: str) -> str:
    listed = ok(await client.get(f"/api/regulation/files/{file_id}/hub", headers=samu.regulator.headers))
    return str(next(m["status"] for m in listed if m["id"] == message_id))


async def reaches(client: AsyncClient, samu: Samu, file_id: str, message_id: str, wanted: str) -> None:
    async def current() -> bool:
        return await status_of(client, samu, file_id, message_id) == wanted

    await eventually(current, f"message {wanted}")


async def file_in(runtime: Runtime, case_id: str) -> RegulationFile | None:
    async with runtime.sessionmaker() as db:
        return await db.scalar(select(RegulationFile).where(RegulationFile.case_id == case_id))


async def test_a_drm_shared_by_one_samu_becomes_a_file_of_the_other_and_is_acknowledged(
    client: AsyncClient,
    samu: Samu,
    runtime: Runtime,
    other: Runtime,
    broker: Broker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lyon, grenoble = broker.client_id("samu069-"), broker.client_id("samu038-")
    configure(monkeypatch, runtime, broker.url, lyon)
    configure(monkeypatch, other, broker.url, grenoble)
    grenoble_centre = await other_room(other)
    async with running(runtime, broker), running(other, broker):
        file, queued = await shared_file(client, samu, grenoble)
        assert queued["status"] == "pending" and queued["kind"] == "RS-EDA" and queued["peer"] == grenoble

        received = await eventually(lambda: file_in(other, file["case_id"]), "the file at the other SAMU")
        await reaches(client, samu, file["id"], queued["id"], "acked")
    assert (received.centre_id, received.state, received.shared_from) == (grenoble_centre, "ACTIF", lyon)
    assert (received.priority, received.motive, received.city) == ("P1", "Douleur thoracique", "Lyon")
    assert (received.patient_name, received.patient_age, received.patient_sex) == ("Marie Durand", 67, "F")
    assert received.caller_phone == "+33612345678" and received.whats_happen == "Douleur depuis 30 minutes"
    async with other.sessionmaker() as db:
        arrived = await db.scalar(select(HubMessage).where(HubMessage.direction == "in"))
        notes = list(await db.scalars(select(MedicalNote.text).where(MedicalNote.file_id == received.id)))
    assert arrived is not None and (arrived.kind, arrived.peer, arrived.status) == ("RS-EDA", lyon, "done")
    content = envelope.parse(arrived.envelope.encode()).message
    ans.CreateCaseHealthWrapper.model_validate({"createCaseHealth": content["createCaseHealth"]})
    assert notes == [f"Transmis par {lyon} : Antécédent d'infarctus"]
    listed = ok(await client.get(f"/api/regulation/files/{file['id']}/hub", headers=samu.regulator.headers))
    assert [(m["direction"], m["kind"], m["peer"]) for m in listed] == [
        ("out", "RS-EDA", grenoble),
        ("in", "RC-REF", grenoble),
    ]


async def test_a_message_for_a_samu_that_is_down_waits_in_its_queue(
    client: AsyncClient,
    samu: Samu,
    runtime: Runtime,
    other: Runtime,
    broker: Broker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lyon, grenoble = broker.client_id("samu069-"), broker.client_id("samu038-")
    configure(monkeypatch, runtime, broker.url, lyon)
    configure(monkeypatch, other, broker.url, grenoble)
    await other_room(other)
    async with running(other, broker):
        pass  # its queue exists from now on, like a provisioned Hub client's
    async with running(runtime, broker):
        file, queued = await shared_file(client, samu, grenoble)
        await reaches(client, samu, file["id"], queued["id"], "sent")  # the broker holds it
        assert await file_in(other, file["case_id"]) is None
        async with running(other, broker):
            await eventually(lambda: file_in(other, file["case_id"]), "delivered once back")
            await reaches(client, samu, file["id"], queued["id"], "acked")


async def test_without_a_reachable_broker_the_message_stays_pending_then_leaves(
    client: AsyncClient,
    samu: Samu,
    runtime: Runtime,
    broker: Broker,
    peer: Peer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lyon = broker.client_id("samu069-")
    configure(monkeypatch, runtime, f"amqp://guest:guest@127.0.0.1:{free_port()}/", lyon)
    async with running(runtime, broker, ready=False) as connector:

        async def failed_twice() -> bool:
            return connector.failures >= 2

        file, queued = await shared_file(client, samu, peer.id)
        await eventually(failed_twice, "two failed connections")
        assert await status_of(client, samu, file["id"], queued["id"]) == "pending"
    configure(monkeypatch, runtime, broker.url, lyon)
    async with running(runtime, broker):
        await reaches(client, samu, file["id"], queued["id"], "sent")
        received = envelope.parse(json.dumps(await peer.receive()).encode())
    assert (received.sender_id, received.recipient) == (lyon, peer.id)
    assert received.message["createCaseHealth"]["caseId"] == file["case_id"]


def rs_eda_from(peer: Peer, to: str, **changes: Any) -> bytes:
    """What another SAMU's software would send: a DRM in its envelope."""
    body = messages.create_case_health(
        a_file(case_id=f"{peer.id}.DRM2026112300007", **changes), [], [], sender=peer.id
    )
    return json.dumps(envelope.build(sender=peer.id, recipient=to, kind="Report", body=body, now=AT)).encode()


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.sessionmaker() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_the_same_message_delivered_twice_makes_one_file(
    other: Runtime, broker: Broker, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    grenoble = broker.client_id("samu038-")
    configure(monkeypatch, other, broker.url, grenoble)
    await other_room(other)
    raw = rs_eda_from(peer, grenoble)
    async with running(other, broker) as connector:
        await peer.send(raw, grenoble)
        await peer.send(raw, grenoble)

        async def both_handled() -> bool:
            return connector.received >= 2

        await eventually(both_handled, "both deliveries handled")
        reference = await peer.receive()
    assert await count(other, RegulationFile) == 1
    assert await count(other, HubMessage, HubMessage.direction == "in") == 1
    assert await count(other, HubMessage, HubMessage.direction == "out", HubMessage.kind == "RC-REF") == 1
    acked = reference["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]["reference"]
    assert acked["distributionID"] == json.loads(raw)["distributionID"]


@pytest.mark.parametrize(
    ("case", "code"),
    [("not JSON", 102), ("an unknown kind", 301), ("content invalid against the model", 300)],
)
async def test_a_broken_message_is_answered_by_an_error_and_creates_nothing(
    case: str, code: int, other: Runtime, broker: Broker, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    grenoble = broker.client_id("samu038-")
    configure(monkeypatch, other, broker.url, grenoble)
    await other_room(other)
    good = json.loads(rs_eda_from(peer, grenoble))
    message = good["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    if case == "an unknown kind":
        message["customContent"] = message.pop("createCaseHealth")
    else:
        message["createCaseHealth"]["creation"] = "2026-11-23T08:05:00Z"
    raw = b"{not json" if case == "not JSON" else json.dumps(good).encode()
    async with running(other, broker):
        await peer.send(raw, grenoble, message_id=good["distributionID"])
        answer = await peer.receive()
    assert answer["distributionKind"] == "Error" and answer["senderID"] == grenoble
    error = answer["content"][0]["jsonContent"]["embeddedJsonContent"]["message"]
    refused = ErrorWrapper.model_validate({"error": error["error"]}).error
    assert refused.error_code.status_code == code
    assert refused.referenced_distribution_id == good["distributionID"]
    assert await count(other, RegulationFile) == 0
    assert await count(other, HubMessage, HubMessage.direction == "in", HubMessage.status == "error") == 1


async def test_a_resource_status_about_a_known_case_joins_its_mission_history(
    other: Runtime, broker: Broker, peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    grenoble = broker.client_id("samu038-")
    configure(monkeypatch, other, broker.url, grenoble)
    centre_id = await other_room(other)
    async with running(other, broker):
        await peer.send(rs_eda_from(peer, grenoble), grenoble)
        await peer.receive()  # its RC-REF: the file exists
        file = await file_in(other, f"{peer.id}.DRM2026112300007")
        assert file is not None
        async with other.sessionmaker() as db:
            resource = Resource(centre_id=centre_id, name="SMUR 38", resource_type="SMUR", available=False)
            db.add(resource)
            await db.flush()
            mission = Mission(
                file_id=file.id, resource_id=resource.id, status="DEPART", status_at=AT, token_hash="x" * 64
            )
            db.add(mission)
            await db.commit()
        status = messages.resources_status(file, resource, "ARRIVEE", AT, sender=peer.id)
        raw = json.dumps(
            envelope.build(sender=peer.id, recipient=grenoble, kind="Update", body=status, now=AT)
        )
        await peer.send(raw.encode(), grenoble)
        await peer.receive()
    async with other.sessionmaker() as db:
        history = list(await db.scalars(select(MissionStatus).where(MissionStatus.mission_id == mission.id)))
    assert [(s.status, s.by) for s in history] == [("ARRIVEE", "hub")]
