"""Verification and dispensation by a pharmacist: the public id is the authorisation, all audited."""

import httpx
import pytest

from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.prescriptions.conftest import PARACETAMOL, Cast, audit_count, prescribe


async def test_the_pharmacist_verifies_and_sees_exactly_what_was_prescribed(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    created = await rx.post(
        "/api/prescriptions",
        json={"patient_id": cast.patient_id, "lines": [PARACETAMOL]},
        headers=cast.doctor.headers,
    )
    public_id = created.json()["public_id"]
    response = await rx.get(f"/api/prescriptions/verify/{public_id}", headers=cast.pharmacist.headers)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["verified"] is True and view["problem"] is None
    assert view["content"] == created.json()["content"]
    assert view["lines"] == [{"line": 0, "allowed": 1, "dispensed": 0, "remaining": 1}]
    assert view["dispensations"] == []
    assert (
        await audit_count(
            runtime, action="verify", resource_id=public_id, patient_id=cast.patient_id, outcome="success"
        )
        == 1
    )


async def test_a_typed_id_in_lower_case_with_spaces_and_groups_is_found(
    rx: httpx.AsyncClient, cast: Cast
) -> None:
    public_id = await prescribe(rx, cast)
    body = public_id.removeprefix("ORD-")
    typed = "ord-" + " ".join(body[i : i + 5] for i in range(0, 20, 5)).lower()
    response = await rx.get(f"/api/prescriptions/verify/{typed}", headers=cast.pharmacist.headers)
    assert response.status_code == 200 and response.json()["public_id"] == public_id


async def test_a_non_renewable_line_is_dispensed_once(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)
    url = f"/api/prescriptions/{public_id}/dispensations"
    first = await rx.post(
        url, json={"lines": [{"line": 0, "quantity": "1 boîte"}]}, headers=cast.pharmacist.headers
    )
    assert first.status_code == 201, first.text
    assert first.json()["lines"][0] == {"line": 0, "allowed": 1, "dispensed": 1, "remaining": 0}
    [done] = first.json()["dispensations"]
    assert done["line"] == 0 and done["quantity"] == "1 boîte"
    assert done["pharmacist_id"] == cast.pharmacist.professional.id  # type: ignore[union-attr]
    second = await rx.post(url, json={"lines": [{"line": 0}]}, headers=cast.pharmacist.headers)
    assert second.status_code == 409
    assert "déjà délivrée" in second.json()["detail"]
    assert await audit_count(runtime, action="dispense", patient_id=cast.patient_id, outcome="success") == 1


async def test_the_same_line_twice_in_one_request_counts_twice(rx: httpx.AsyncClient, cast: Cast) -> None:
    public_id = await prescribe(rx, cast)
    response = await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 0}, {"line": 0}]},
        headers=cast.pharmacist.headers,
    )
    assert response.status_code == 409
    view = await rx.get(f"/api/prescriptions/verify/{public_id}", headers=cast.pharmacist.headers)
    assert view.json()["dispensations"] == []  # the whole request was rolled back


async def test_a_renewable_line_goes_exactly_one_plus_renewals_times(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime
) -> None:
    public_id = await prescribe(rx, cast)  # line 1 (lévothyroxine) has 2 renewals
    url = f"/api/prescriptions/{public_id}/dispensations"
    for expected in (1, 2, 3):
        response = await rx.post(url, json={"lines": [{"line": 1}]}, headers=cast.pharmacist.headers)
        assert response.status_code == 201, response.text
        assert response.json()["lines"][1] == {
            "line": 1,
            "allowed": 3,
            "dispensed": expected,
            "remaining": 3 - expected,
        }
    fourth = await rx.post(url, json={"lines": [{"line": 1}]}, headers=cast.pharmacist.headers)
    assert fourth.status_code == 409
    view = await rx.get(f"/api/prescriptions/verify/{public_id}", headers=cast.pharmacist.headers)
    assert [d["line"] for d in view.json()["dispensations"]] == [1, 1, 1]
    assert (
        await audit_count(
            runtime, action="dispense", resource_type="Dispensation", patient_id=cast.patient_id
        )
        == 3
    )


async def test_a_line_that_does_not_exist_is_a_422(rx: httpx.AsyncClient, cast: Cast) -> None:
    public_id = await prescribe(rx, cast)
    response = await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 2}]},
        headers=cast.pharmacist.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lines[0].line"


@pytest.mark.parametrize(
    "raw", ["ORD-0000000000000000000Z", "ORD-123", "nimporte-quoi", "ORD-AAAAAAAAAAAAAAAAAAAAU", "x" * 200]
)
async def test_unknown_or_malformed_ids_get_the_same_404(
    rx: httpx.AsyncClient, cast: Cast, runtime: Runtime, raw: str
) -> None:
    known = await prescribe(rx, cast)
    missing = await rx.get(f"/api/prescriptions/verify/{raw}", headers=cast.pharmacist.headers)
    dispensing = await rx.post(
        f"/api/prescriptions/{raw}/dispensations",
        json={"lines": [{"line": 0}]},
        headers=cast.pharmacist.headers,
    )
    assert missing.status_code == dispensing.status_code == 404
    assert (
        missing.json()
        == dispensing.json()
        == {
            "type": "https://telesante.fr/problems/not_found",
            "title": "Introuvable",
            "status": 404,
            "detail": "ordonnance introuvable",
        }
    )
    assert known != raw
    assert await audit_count(runtime, action="verify", outcome="denied") == 1  # attempts are traced
    assert await audit_count(runtime, action="dispense", outcome="denied") == 1


async def test_the_patient_reads_their_prescription_but_cannot_verify_nor_dispense(
    rx: httpx.AsyncClient, cast: Cast
) -> None:
    public_id = await prescribe(rx, cast)
    own = await rx.get(f"/api/prescriptions/{public_id}", headers=cast.patient.headers)
    assert own.status_code == 200 and own.json()["verified"] is True
    assert own.json()["content"]["lines"][0]["dci"] == "paracétamol"
    verify = await rx.get(f"/api/prescriptions/verify/{public_id}", headers=cast.patient.headers)
    dispense = await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 0}]},
        headers=cast.patient.headers,
    )
    assert verify.status_code == dispense.status_code == 403


async def test_the_prescriber_cannot_dispense(rx: httpx.AsyncClient, cast: Cast) -> None:
    public_id = await prescribe(rx, cast)
    response = await rx.post(
        f"/api/prescriptions/{public_id}/dispensations",
        json={"lines": [{"line": 0}]},
        headers=cast.doctor.headers,
    )
    assert response.status_code == 403


async def test_outsiders_cannot_read_a_prescription_by_its_id(
    rx: httpx.AsyncClient, cast: Cast, world: World
) -> None:
    public_id = await prescribe(rx, cast)
    other_patient = await world.patient(None, with_account=True, family="Autre")
    stranger = await world.professional("Inconnu")
    for person in (other_patient, stranger, cast.pharmacist):
        response = await rx.get(f"/api/prescriptions/{public_id}", headers=person.headers)  # type: ignore[union-attr]
        assert response.status_code == 404
        assert response.json()["detail"] == "ordonnance introuvable"


async def test_anonymous_callers_get_401(rx: httpx.AsyncClient, cast: Cast) -> None:
    public_id = await prescribe(rx, cast)
    assert (await rx.get(f"/api/prescriptions/verify/{public_id}")).status_code == 401
