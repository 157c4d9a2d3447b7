"""Documents and photos in the record, through HTTP: cleaned, checked, encrypted, audited."""

import io
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response
from PIL import ExifTags, Image
from sqlalchemy import text

from telesante.documents import intake
from telesante.kit.crypto import active
from telesante.runtime import Runtime
from tests.documents import files
from tests.fixtures.world import Person, World

PROBLEM = "application/problem+json"


async def upload(
    client: AsyncClient, who: Person, patient_id: str, content: bytes, content_type: str, name: str = "f"
) -> Response:
    return await client.post(
        f"/api/patients/{patient_id}/documents",
        params={"filename": name},
        content=content,
        headers={**who.headers, "content-type": content_type},
    )


async def stored(runtime: Runtime) -> list[tuple[str, bytes]]:
    """The rows as the database holds them, bypassing the ORM (so nothing is decrypted)."""
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, content FROM documents"))).all()
    return [(row[0], bytes(row[1])) for row in rows]


async def test_a_doctor_uploads_a_photo_with_gps_and_downloads_it_without_any_metadata(
    client: AsyncClient, world: World
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    photo = files.photo_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input has GPS

    created = await upload(client, doctor, patient.id, photo, "image/jpeg", "IMG_0042.JPG")
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["content_type"] == "image/jpeg" and document["filename"] == "IMG_0042.JPG"

    listed = await client.get(f"/api/patients/{patient.id}/documents", headers=doctor.headers)
    assert [d["id"] for d in listed.json()] == [document["id"]]
    response = await client.get(
        f"/api/patients/{patient.id}/documents/{document['id']}", headers=doctor.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    assert "sandbox" in response.headers["content-security-policy"]  # inert even if a browser renders it
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in image.info and "comment" not in image.info
    assert b"Exif" not in response.content and b"PhoneCo" not in response.content
    assert document["size"] == len(response.content)

    timeline = await client.get(f"/api/patients/{patient.id}/timeline", headers=doctor.headers)
    entry = next(e for e in timeline.json() if e["kind"] == "document")
    # The name may reveal a diagnosis: it goes to the encrypted summary, not the plain title.
    assert "IMG_0042" not in entry["title"] and entry["summary"] == "IMG_0042.JPG"


async def test_a_sideways_photo_is_turned_upright_before_its_exif_is_dropped(
    client: AsyncClient, world: World
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    photo = files.photo_with_gps(size=(64, 48), orientation=6)  # "rotate 90° to display"
    created = await upload(client, doctor, patient.id, photo, "image/jpeg")
    response = await client.get(
        f"/api/patients/{patient.id}/documents/{created.json()['id']}", headers=doctor.headers
    )
    assert Image.open(io.BytesIO(response.content)).size == (48, 64)


async def test_a_png_keeps_its_format_and_loses_its_text_chunks(client: AsyncClient, world: World) -> None:
    from PIL.PngImagePlugin import PngInfo

    doctor = await world.professional()
    patient = await world.patient(doctor)
    info = PngInfo()
    info.add_text("Author", "Dr Secret")
    out = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(out, "PNG", pnginfo=info)
    created = await upload(client, doctor, patient.id, out.getvalue(), "image/png", "scan.png")
    assert created.status_code == 201, created.text
    response = await client.get(
        f"/api/patients/{patient.id}/documents/{created.json()['id']}", headers=doctor.headers
    )
    assert response.headers["content-type"] == "image/png"
    assert b"Dr Secret" not in response.content and Image.open(io.BytesIO(response.content)).size == (20, 10)


async def test_a_photo_with_corrupt_exif_is_kept_without_it(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    created = await upload(client, doctor, patient.id, files.photo_with_corrupt_exif(), "image/jpeg")
    assert created.status_code == 201, created.text
    response = await client.get(
        f"/api/patients/{patient.id}/documents/{created.json()['id']}", headers=doctor.headers
    )
    assert b"Exif" not in response.content and Image.open(io.BytesIO(response.content)).size == (64, 48)


async def test_an_oversized_body_is_refused_with_413_and_nothing_is_stored(
    client: AsyncClient, world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake, "MAX_BYTES", 64 * 1024)
    doctor = await world.professional()
    patient = await world.patient(doctor)
    pulled: list[int] = []

    async def declared_body() -> AsyncIterator[bytes]:
        pulled.append(1)
        yield files.pdf(padding=65 * 1024)

    declared = await client.post(
        f"/api/patients/{patient.id}/documents",
        content=declared_body(),
        headers={**doctor.headers, "content-type": "application/pdf", "content-length": str(65 * 1024 + 300)},
    )
    assert declared.status_code == 413 and declared.headers["content-type"] == PROBLEM
    assert pulled == []  # refused on the declared length, before reading a byte

    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: only the reading can stop it
        pdf = files.pdf(padding=1024 * 1024)
        for start in range(0, len(pdf), 8192):
            sent.append(start)
            yield pdf[start : start + 8192]

    streamed = await client.post(
        f"/api/patients/{patient.id}/documents",
        content=chunks(),
        headers={**doctor.headers, "content-type": "application/pdf"},
    )
    assert streamed.status_code == 413
    assert "content-length" not in streamed.request.headers
    assert len(sent) < 10  # the server stopped reading just past the limit, not at the end
    assert await stored(runtime) == []
    small = await upload(client, doctor, patient.id, files.pdf(), "application/pdf")
    assert small.status_code == 201  # the limit is the size, not the type


@pytest.mark.parametrize(
    ("content", "declared"),
    [
        (files.pdf(), "image/png"),  # the bytes are a PDF
        (files.png(), "image/jpeg"),
        (b"<html><script>alert(1)</script></html>", "application/pdf"),  # unknown bytes
        (files.pdf(), "application/octet-stream"),  # a type we never take
        (files.pdf(), "multipart/form-data; boundary=x"),
    ],
)
async def test_the_declared_type_must_be_accepted_and_match_the_bytes(
    client: AsyncClient, world: World, runtime: Runtime, content: bytes, declared: str
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    response = await upload(client, doctor, patient.id, content, declared)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == PROBLEM and response.json()["detail"]
    assert await stored(runtime) == []


@pytest.mark.parametrize(
    "bomb",
    [
        files.png_header_only(8000, 8000, rows=8000),  # 64 Mpx: under Pillow's own limit, over ours
        files.png_header_only(100_000, 100_000),  # 10 Gpx in a few bytes
    ],
)
async def test_a_decompression_bomb_is_refused_before_it_is_decoded(
    client: AsyncClient, world: World, runtime: Runtime, bomb: bytes
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    assert len(bomb) < 20_000
    response = await upload(client, doctor, patient.id, bomb, "image/png")
    assert response.status_code == 422, response.text
    assert "mégapixels" in response.json()["detail"]
    assert await stored(runtime) == []


async def test_a_corrupt_image_is_refused_with_422(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    truncated = files.photo_with_gps()[:400]
    for content, declared in (
        (truncated, "image/jpeg"),
        (files.png()[:60], "image/png"),
        (files.png()[:20], "image/png"),  # not even a whole header
    ):
        response = await upload(client, doctor, patient.id, content, declared)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "content"
    assert await stored(runtime) == []


@pytest.mark.parametrize(
    "content",
    [
        files.pdf(b"6 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n"),
        files.pdf(b"6 0 obj\n<< /S /J#61vaScript /J#53 (app.alert(1)) >>\nendobj\n"),  # escaped names
        files.pdf(files.object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>")),  # compressed
        # A fake "stream" keyword in a string, to pass the action off as stream data.
        files.pdf(b"6 0 obj\n<< /T (stream\n) /OpenAction << /S /JavaScript /JS (x) >> /U (endstream) >>\n"),
        files.pdf(b"6 0 obj\n<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream\nendobj\n"),
        files.pdf(b"6 0 obj\n<< /S /Launch /F (cmd.exe) >>\nendobj\n"),
        files.pdf(b"trailer\n<< /Encrypt 7 0 R >>\n"),  # encrypted: its object streams cannot be read
        files.pdf(eof=False),  # truncated
    ],
)
async def test_a_pdf_with_active_content_or_truncated_is_refused_with_422(
    client: AsyncClient, world: World, runtime: Runtime, content: bytes
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    response = await upload(client, doctor, patient.id, content, "application/pdf")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "content"
    assert await stored(runtime) == []


async def test_ordinary_pdfs_pass_the_filter(client: AsyncClient, world: World) -> None:
    from reportlab.pdfgen.canvas import Canvas

    doctor = await world.professional()
    patient = await world.patient(doctor)
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, "Compte rendu de téléconsultation")
    canvas.save()
    # Compressed picture data may hold the bytes "/JS " by chance: outside a dictionary they mean nothing.
    lucky_image = (
        b"6 0 obj\n<< /Type /XObject /Subtype /Image /Length 9 >>\n"
        b"stream\n\x93/JS \x00\xa7\nendstream\nendobj\n"
    )
    for content in (out.getvalue(), files.pdf(lucky_image), files.pdf(files.object_stream(b"<< /A 1 >>"))):
        response = await upload(client, doctor, patient.id, content, "application/pdf")
        assert response.status_code == 201, response.text


async def test_a_stranger_sees_no_document_and_cannot_reach_one_through_their_own_patient(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    patient, own = await world.patient(doctor), await world.patient(stranger, family="Leroy")
    created = await upload(client, doctor, patient.id, files.pdf(), "application/pdf")
    document_id = created.json()["id"]
    base = f"/api/patients/{patient.id}/documents"
    missing = await client.get("/api/patients/00000000-0000-0000-0000-000000000000", headers=stranger.headers)

    for response in (
        await client.get(base, headers=stranger.headers),
        await client.get(f"{base}/{document_id}", headers=stranger.headers),
        await upload(client, stranger, patient.id, files.pdf(), "application/pdf"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == missing.json()["detail"]  # same as no patient at all
    through_own = await client.get(
        f"/api/patients/{own.id}/documents/{document_id}", headers=stranger.headers
    )
    assert through_own.status_code == 404
    assert files.MARKER not in through_own.content
    assert len(await stored(runtime)) == 1  # the stranger's upload stored nothing


async def test_the_database_holds_only_ciphertext(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    pdf = files.pdf()
    assert files.MARKER in pdf
    created = await upload(client, doctor, patient.id, pdf, "application/pdf", "rapport.pdf")
    [(document_id, blob)] = await stored(runtime)
    assert document_id == created.json()["id"]
    assert files.MARKER not in blob and b"%PDF" not in blob
    assert active().decrypt(blob) == pdf  # it is the document, encrypted with the process keyring
    downloaded = await client.get(
        f"/api/patients/{patient.id}/documents/{document_id}", headers=doctor.headers
    )
    assert downloaded.content == pdf


async def test_uploads_downloads_and_refusals_are_audited(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor, stranger = await world.professional(), await world.professional("Inconnu")
    patient = await world.patient(doctor)
    created = await upload(client, doctor, patient.id, files.pdf(), "application/pdf")
    await client.get(f"/api/patients/{patient.id}/documents/{created.json()['id']}", headers=doctor.headers)
    await client.get(f"/api/patients/{patient.id}/documents/{created.json()['id']}", headers=stranger.headers)
    async with runtime.engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT actor_user_id, action, outcome FROM audit_events "
                    "WHERE resource_type = 'Document' AND patient_id = :p ORDER BY at"
                ),
                {"p": patient.id},
            )
        ).all()
    assert [tuple(e) for e in events] == [
        (doctor.user.id, "create", "success"),
        (doctor.user.id, "read", "success"),
        (stranger.user.id, "read", "denied"),
    ]


async def test_the_file_name_is_cleaned_and_offered_safely(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    patient = await world.patient(doctor)
    name = "../../etc/Compte rendu\u202efdp.exe\r\nX-Evil: 1" + "é" * 300
    created = await upload(client, doctor, patient.id, files.pdf(), "application/pdf", name)
    filename = created.json()["filename"]
    assert filename.startswith("Compte rendu fdp.exe X-Evil_ 1é") and filename.endswith("é.pdf")
    assert len(filename) == intake.MAX_FILENAME
    assert "/" not in filename and "\u202e" not in filename and "\n" not in filename
    response = await client.get(
        f"/api/patients/{patient.id}/documents/{created.json()['id']}", headers=doctor.headers
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Compte rendu fdp.exe X-Evil_ 1_')
    assert "filename*=UTF-8''Compte%20rendu%20fdp.exe" in disposition


async def test_the_openapi_documents_the_upload_refusals(client: AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    post = spec["paths"]["/api/patients/{patient_id}/documents"]["post"]
    assert {"404", "413", "415", "422"} <= set(post["responses"])
    assert set(post["requestBody"]["content"]) == {"application/pdf", "image/jpeg", "image/png"}
