"""The printed ordonnance: a real PDF with every mention, the QR code and the number in clear.

pypdf is not installed, so the test decodes the PDF's streams itself (ASCII85, zlib) and
reads the text drawn by reportlab; PDF string escapes are undone.
"""

import base64
import re
import zlib

import httpx
import segno

from telesante.prescriptions.pdf import qr_png
from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.prescriptions.conftest import Cast, prescribe


def pdf_text(data: bytes) -> str:
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = match.group(1).strip()
        if raw.endswith(b"~>"):  # reportlab's /ASCII85Decode before /FlateDecode
            raw = base64.a85decode(raw[:-2].replace(b"\n", b""))
        try:
            chunks.append(zlib.decompress(raw))
        except zlib.error:
            chunks.append(raw)
    drawn = b"\n".join(re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", b"\n".join(chunks), re.S))
    return _unescape(drawn).decode("cp1252")  # reportlab's standard fonts use WinAnsiEncoding


def _unescape(raw: bytes) -> bytes:
    """PDF string escapes: \\ddd octal, \\( \\) \\\\."""

    def one(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        return bytes([int(code, 8)]) if code[:1].isdigit() else code

    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw)


async def test_the_pdf_holds_every_mention_the_number_and_a_qr_code(
    rx: httpx.AsyncClient, cast: Cast
) -> None:
    public_id = await prescribe(rx, cast)
    response = await rx.get(f"/api/prescriptions/{public_id}.pdf", headers=cast.patient.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    data = response.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    doctor = cast.doctor.professional
    assert doctor
    for piece in (
        "ORDONNANCE",
        "MARTIN",  # prescriber's names
        "Claire",
        "Médecin — Médecine générale",
        f"RPPS : {doctor.rpps}",
        "Cabinet du Parc, Lyon, France",
        "+33 4 78 12 34 56",
        "claire.martin@cabinet-du-parc.fr",
        "DURAND",  # patient
        "Marie",
        "Sexe : Féminin",
        "17/05/1985",
        "Doliprane 500 mg",
        "Posologie : 1 comprimé jusqu'à 3 fois par jour si douleur",
        "Durée : 5 jours — Nombre de boîtes : 1",
        "DCI : lévothyroxine sodique",
        "Non renouvelable",
        "À renouveler 2 fois",
        "Non substituable (MTE)",
        public_id,  # in clear for manual entry
        "ORD-" + "-".join(public_id[4 + i : 9 + i] for i in range(0, 20, 5)),
        "ed25519-",  # the key id
    ):
        assert piece in text, piece
    assert b"/Subtype /Image" in data  # the QR code


def test_the_qr_code_holds_only_the_public_number() -> None:
    png = qr_png("ORD-0123456789ABCDEFGHJK")
    assert png.startswith(b"\x89PNG")
    # Same matrix as a QR code of exactly the number (segno is deterministic for the same input).
    expected = segno.make("ORD-0123456789ABCDEFGHJK", error="m")
    import io

    buffer = io.BytesIO()
    expected.save(buffer, kind="png", scale=6, border=2)
    assert png == buffer.getvalue()


async def test_the_prescriber_prints_it_and_outsiders_get_404(
    rx: httpx.AsyncClient, cast: Cast, world: World, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    assert (
        await rx.get(f"/api/prescriptions/{public_id}.pdf", headers=cast.doctor.headers)
    ).status_code == 200
    stranger = await world.professional("Inconnu")
    for person in (stranger, cast.pharmacist):
        response = await rx.get(f"/api/prescriptions/{public_id}.pdf", headers=person.headers)
        assert response.status_code == 404
    unknown = await rx.get("/api/prescriptions/ORD-0000000000000000000Z.pdf", headers=cast.patient.headers)
    assert unknown.status_code == 404
