"""CGM uploaders speak Nightscout API v1: `api-secret` is the SHA-1 of the device token."""

from datetime import UTC, datetime, timedelta, timezone

from httpx import AsyncClient

from tests.monitoring.conftest import Followed, ago, alerts, api_secret, measurements


def sgv(value: int, at: datetime, **extra: object) -> dict[str, object]:
    return {
        "type": "sgv",
        "sgv": value,
        "date": int(at.timestamp() * 1000),
        "dateString": at.isoformat(),
        "direction": "Flat",
        "device": "xDrip-DexcomG6",
        **extra,
    }


async def test_an_uploader_posts_entries_with_a_real_sha1_secret(
    client: AsyncClient, followed: Followed
) -> None:
    paris = timezone(timedelta(hours=1))
    first, second = ago(minutes=10).astimezone(paris), ago(minutes=5).astimezone(paris)
    response = await client.post(
        "/api/v1/entries", headers=api_secret(followed.token), json=[sgv(120, first), sgv(126, second)]
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [(e["sgv"], e["type"], bool(e["_id"])) for e in answer] == [(120, "sgv", True), (126, "sgv", True)]
    assert answer[0]["sysTime"].endswith("Z")  # stored in UTC
    stored = await measurements(client, followed)
    assert [(m["value"], m["source"], m["unit_sent"]) for m in stored] == [
        (120, "nightscout", "mg/dL"),
        (126, "nightscout", "mg/dL"),
    ]
    assert datetime.fromisoformat(stored[0]["effective_at"]) == first  # dateString, offset and all


async def test_a_reupload_is_stored_once(client: AsyncClient, followed: Followed) -> None:
    entry = sgv(140, ago(minutes=5))
    await client.post("/api/v1/entries", headers=api_secret(followed.token), json=entry)  # one object
    again = await client.post("/api/v1/entries", headers=api_secret(followed.token), json=[entry])
    assert again.status_code == 200
    assert again.json()[0]["duplicate"] is True
    assert len(await measurements(client, followed)) == 1


async def test_dexcom_error_codes_and_impossible_values_are_refused(
    client: AsyncClient, followed: Followed
) -> None:
    at = ago(minutes=20)
    sent = [
        sgv(5, at),
        sgv(11, at + timedelta(minutes=5)),  # reserved, unassigned
        sgv(700, at + timedelta(minutes=10)),
        sgv(101, at + timedelta(minutes=15)),
    ]
    response = await client.post("/api/v1/entries", headers=api_secret(followed.token), json=sent)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (
        answer[0]["refused"]
        == "glycémie 5 mg/dL refusée : code d'erreur du capteur (?NC, capteur non calibré), pas une mesure"
    )
    assert "code réservé" in answer[1]["refused"]
    assert "hors des valeurs physiologiques" in answer[2]["refused"]
    assert all("_id" not in e for e in answer[:3]) and answer[3]["_id"]
    assert [m["value"] for m in await measurements(client, followed)] == [101]


async def test_meter_readings_and_calibrations(client: AsyncClient, followed: Followed) -> None:
    at = ago(minutes=10)
    sent = [
        {"type": "mbg", "mbg": 95, "date": int(at.timestamp() * 1000)},
        {"type": "cal", "slope": 1000, "intercept": 0, "scale": 1, "date": int(at.timestamp() * 1000)},
    ]
    answer = (await client.post("/api/v1/entries", headers=api_secret(followed.token), json=sent)).json()
    assert answer[0]["type"] == "mbg" and answer[0]["_id"]
    assert "non conservé" in answer[1]["ignored"]
    assert [m["kind"] for m in await measurements(client, followed)] == ["glucose_meter"]


async def test_sha512_and_the_secret_parameter_also_authenticate(
    client: AsyncClient, followed: Followed
) -> None:
    response = await client.post(
        "/api/v1/entries", headers=api_secret(followed.token, "sha512"), json=sgv(150, ago(minutes=5))
    )
    assert response.status_code == 200
    secret = api_secret(followed.token)["api-secret"].upper()
    assert (await client.get("/api/v1/entries.json", params={"secret": secret})).status_code == 200


async def test_wrong_or_revoked_secret_is_unauthorized(client: AsyncClient, followed: Followed) -> None:
    for headers in ({}, api_secret("not-the-token"), {"api-secret": followed.token}):
        response = await client.post("/api/v1/entries", headers=headers, json=sgv(100, ago(minutes=5)))
        assert response.status_code == 401
        assert response.json() == {"status": 401, "message": "Unauthorized", "description": "Invalid/Missing"}
    await client.post(
        f"/api/monitoring/programs/{followed.program_id}/devices/{followed.device_id}/revoke",
        headers=followed.doctor.headers,
    )
    revoked = await client.post(
        "/api/v1/entries", headers=api_secret(followed.token), json=sgv(100, ago(minutes=5))
    )
    assert revoked.status_code == 401
    assert await measurements(client, followed) == []


async def test_get_entries_latest_first_with_count_and_date_filter(
    client: AsyncClient, followed: Followed
) -> None:
    start = ago(minutes=60)
    sent = [sgv(100 + i, start + timedelta(minutes=5 * i)) for i in range(6)]
    await client.post("/api/v1/entries", headers=api_secret(followed.token), json=sent)
    latest = await client.get("/api/v1/entries.json", headers=api_secret(followed.token), params={"count": 3})
    assert [e["sgv"] for e in latest.json()] == [105, 104, 103]
    since = int((start + timedelta(minutes=12)).timestamp() * 1000)
    recent = await client.get(
        "/api/v1/entries", headers=api_secret(followed.token), params={"find[date][$gte]": since}
    )
    assert [e["sgv"] for e in recent.json()] == [105, 104, 103]
    assert all(e["date"] >= since for e in recent.json())
    assert (await client.get("/api/v1/entries")).status_code == 401


async def test_status_and_verifyauth(client: AsyncClient, followed: Followed) -> None:
    status = (await client.get("/api/v1/status.json", headers=api_secret(followed.token))).json()
    assert status["status"] == "ok" and status["apiEnabled"] is True
    assert not status["version"].startswith(("0.6", "0.7", "0.8"))  # xDrip refuses those
    assert abs(status["serverTimeEpoch"] / 1000 - datetime.now(UTC).timestamp()) < 60
    assert status["settings"]["units"] == "mg/dl"
    ok = (await client.get("/api/v1/verifyauth", headers=api_secret(followed.token))).json()
    assert ok["message"]["message"] == "OK" and ok["message"]["canWrite"] is True
    anonymous = (await client.get("/api/v1/verifyauth")).json()
    assert anonymous["message"]["message"] == "UNAUTHORIZED" and anonymous["message"]["canRead"] is False


async def test_a_nightscout_low_raises_the_same_alert(client: AsyncClient, followed: Followed) -> None:
    await client.post("/api/v1/entries", headers=api_secret(followed.token), json=[sgv(62, ago(minutes=5))])
    assert [a["rule_code"] for a in await alerts(client, followed.doctor)] == ["glucose.hypo"]
