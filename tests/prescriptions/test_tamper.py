"""A stored prescription changed behind the application's back is detected and never dispensed."""

import json

import httpx
from sqlalchemy import text

from telesante.kit.crypto import active
from telesante.runtime import Runtime
from tests.prescriptions.conftest import Cast, audit_count, prescribe


async def _raw(runtime: Runtime, sql: str, **params: object) -> object:
    async with runtime.engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        return result.scalar() if result.returns_rows else None


async def _stored_text(runtime: Runtime, public_id: str) -> str:
    blob = await _raw(runtime, "SELECT content FROM prescriptions WHERE public_id = :p", p=public_id)
    return active().decrypt(bytes(blob)).decode()  # type: ignore[arg-type]


async def _assert_refused(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime, public_id: str, why: str
) -> None:
    verify = await rx.get(f"/api/prescriptions/verify/{public_id}", headers=cast.pharmacist.headers)
    assert verify.status_code == 200, verify.text
    view = verify.json()
    assert view["verified"] is False and why in view["problem"]
    assert view["content"] is None and view["lines"] == []  # nothing altered is shown as prescribed
    dispense = await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 0}]},
        headers=cast.pharmacist.headers,
    )
    assert dispense.status_code == 409 and "non délivrable" in dispense.json()["detail"]
    assert await _raw(runtime, "SELECT count(*) FROM dispensations") == 0
    assert await audit_count(runtime, action="dispense", resource_id=public_id, outcome="denied") == 1
    pdf = await rx.get(f"/api/prescriptions/{public_id}.pdf", headers=cast.patient.headers)
    assert pdf.status_code == 409


async def test_an_edited_content_re_encrypted_is_detected(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    content = json.loads(await _stored_text(runtime, public_id))
    content["lines"][0]["renewals"] = 11  # the forger's wish
    forged = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    await _raw(
        runtime,
        "UPDATE prescriptions SET content = :c WHERE public_id = :p",
        c=active().encrypt(forged.encode()),
        p=public_id,
    )
    await _assert_refused(rx, cast, runtime, public_id, "signature invalide")


async def test_an_altered_signature_is_detected(rx: httpx.AsyncClient, cast: Cast, runtime: Runtime) -> None:
    public_id = await prescribe(rx, cast)
    signature = bytearray(
        await _raw(runtime, "SELECT signature FROM prescriptions WHERE public_id = :p", p=public_id)
    )  # type: ignore[arg-type]
    signature[0] ^= 1
    await _raw(
        runtime,
        "UPDATE prescriptions SET signature = :s WHERE public_id = :p",
        s=bytes(signature),
        p=public_id,
    )
    await _assert_refused(rx, cast, runtime, public_id, "signature invalide")


async def test_a_key_id_that_is_not_ours_is_detected(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    await _raw(
        runtime,
        "UPDATE prescriptions SET key_id = 'ed25519-0000000000000000' WHERE public_id = :p",
        p=public_id,
    )
    await _assert_refused(rx, cast, runtime, public_id, "signature invalide")


async def test_a_signed_content_copied_from_another_prescription_is_detected(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    victim = await prescribe(rx, cast)
    donor = await prescribe(rx, cast)  # validly signed, but for another number
    await _raw(
        runtime,
        "UPDATE prescriptions SET content = (SELECT content FROM prescriptions WHERE public_id = :d), "
        "signature = (SELECT signature FROM prescriptions WHERE public_id = :d) WHERE public_id = :v",
        d=donor,
        v=victim,
    )
    await _assert_refused(rx, cast, runtime, victim, "autre ordonnance")


async def test_a_corrupted_ciphertext_is_detected_not_a_500(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    blob = bytearray(
        await _raw(runtime, "SELECT content FROM prescriptions WHERE public_id = :p", p=public_id)
    )  # type: ignore[arg-type]
    blob[-1] ^= 1
    await _raw(
        runtime, "UPDATE prescriptions SET content = :c WHERE public_id = :p", c=bytes(blob), p=public_id
    )
    await _assert_refused(rx, cast, runtime, public_id, "illisible")


async def test_the_untouched_prescription_still_verifies(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    """The control for the tests above: the same steps without the alteration pass."""
    public_id = await prescribe(rx, cast)
    verify = await rx.get(f"/api/prescriptions/verify/{public_id}", headers=cast.pharmacist.headers)
    assert verify.json()["verified"] is True
    dispense = await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 0}]},
        headers=cast.pharmacist.headers,
    )
    assert dispense.status_code == 201
