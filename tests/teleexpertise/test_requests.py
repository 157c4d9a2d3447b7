"""Creating a request: photos cleaned and encrypted, consent first, bad files refused, nothing half-written
(all or nothing)."""

import io

import pytest
from httpx import AsyncClient
from PIL import Image
from sqlalchemy import select, text

from telesante.documents import intake
from telesante.runtime import Runtime
from telesante.teleexpertise.models import ExpertAttachment, ExpertRequest
from tests.conftest import count
from tests.documents.files import MARKER, pdf, photo_with_gps
from tests.teleexpertise.conftest import Team, create, created, titles


async def nothing_written(runtime: Runtime) -> None:
    async with runtime.sessionmaker() as db:
        assert await count(db, "SELECT count(*) FROM expert_requests") == 0
        assert await count(db, "SELECT count(*) FROM documents") == 0
        assert await count(db, "SELECT count(*) FROM jobs WHERE kind LIKE 'teleexpertise.%'") == 0


async def test_a_request_with_a_photo_and_a_pdf_strips_the_gps_and_encrypts_them(
    client: AsyncClient, team: Team, runtime: Runtime
) -> None:
    response = await create(
        client, team, [("dos.jpg", photo_with_gps(), "image/jpeg"), ("ecg.pdf", pdf(), "application/pdf")]
    )
    assert response.status_code == 201, response.text
    request = response.json()
    assert [a["content_type"] for a in request["attachments"]] == ["image/jpeg", "application/pdf"]
    assert (request["status"], request["urgency"], request["role"]) == ("requested", "normal", "requester")
    assert 47 * 3600 < request["seconds_left"] <= 48 * 3600
    photo = await client.get(
        f"/api/expert-requests/{request['id']}/attachments/{request['attachments'][0]['document_id']}",
        headers=team.expert.headers,
    )
    assert photo.status_code == 200
    assert b"PhoneCo" not in photo.content and b"Exif" not in photo.content
    assert not Image.open(io.BytesIO(photo.content)).getexif()
    async with runtime.sessionmaker() as db:
        raw = [bytes(b) for b in (await db.execute(text("SELECT content FROM documents"))).scalars()]
    assert raw and all(MARKER not in blob and b"PhoneCo" not in blob for blob in raw)
    assert "Nouvelle demande de téléexpertise" in await titles(client, team.expert)


async def test_without_consent_409_and_nothing_written(
    client: AsyncClient, team: Team, runtime: Runtime, world: object
) -> None:
    from tests.fixtures.world import World

    assert isinstance(world, World)
    other = await world.patient(team.requester)
    response = await create(client, team, [("dos.jpg", photo_with_gps(), "image/jpeg")], patient_id=other.id)  # type: ignore[union-attr]
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("consent_missing")
    await nothing_written(runtime)


@pytest.mark.parametrize(
    ("file", "status"),
    [
        (("dos.jpg", pdf(), "image/jpeg"), 415),  # a PDF disguised as a photo
        (("script.html", b"<html><script>x</script></html>", "text/html"), 415),
        (("gros.pdf", pdf(padding=80 * 1024), "application/pdf"), 413),
    ],
)
async def test_bad_files_are_refused_and_nothing_is_written(
    client: AsyncClient,
    team: Team,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    file: tuple[str, bytes, str],
    status: int,
) -> None:
    monkeypatch.setattr(intake, "MAX_BYTES", 64 * 1024)
    response = await create(client, team, [("ok.jpg", photo_with_gps(), "image/jpeg"), file])
    assert response.status_code == status, response.text
    await nothing_written(runtime)


async def test_documents_of_the_record_are_attached_by_id_only_from_this_patient(
    client: AsyncClient, team: Team, runtime: Runtime, world: object
) -> None:
    assert team.patient.patient is not None
    upload = await client.post(
        f"/api/patients/{team.patient.patient.id}/documents",
        content=pdf(),
        headers={**team.requester.headers, "Content-Type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    request = await created(client, team, document_ids=[upload.json()["id"]])
    assert [a["document_id"] for a in request["attachments"]] == [upload.json()["id"]]
    from tests.fixtures.world import World

    assert isinstance(world, World)
    other = await world.patient(team.requester)
    elsewhere = await client.post(
        f"/api/patients/{other.id}/documents",  # type: ignore[union-attr]
        content=pdf(),
        headers={**team.requester.headers, "Content-Type": "application/pdf"},
    )
    refused = await create(client, team, document_ids=[elsewhere.json()["id"]])
    assert refused.status_code == 422, refused.text
    async with runtime.sessionmaker() as db:
        assert len((await db.scalars(select(ExpertRequest))).all()) == 1
        assert len((await db.scalars(select(ExpertAttachment))).all()) == 1


async def test_only_medical_experts_and_health_professionals(
    client: AsyncClient, team: Team, world: object
) -> None:
    from tests.fixtures.world import World

    assert isinstance(world, World)
    nurse = await world.professional("Infirmière", profession="nurse", specialty=None)
    response = await create(client, team, expert_ids=[nurse.professional.id])  # type: ignore[union-attr]
    assert response.status_code == 422
    assert "médecin ou une sage-femme" in response.json()["detail"]
    assert (await create(client, team, expert_ids=[])).status_code == 422
