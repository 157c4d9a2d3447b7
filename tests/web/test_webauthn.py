"""WebAuthn second factor through the JSON endpoints, with a software authenticator (P-256,
"none" attestation) standing in for a security key."""

import base64
import hashlib
import json
import os
import struct
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from httpx import AsyncClient, Response
from sqlalchemy import select

from telesante.auth.models import LoginChallenge, WebAuthnCredential
from telesante.db import transaction
from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.web.test_login_and_pages import enrol, field, password_step

ORIGIN, RP_ID = "http://testserver", "testserver"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftKey:
    """Just enough of a CTAP2 authenticator: makes a credential, signs assertions."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin}).encode()

    def create(self, options: dict[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )
        auth_data = (
            hashlib.sha256(options["rp"]["id"].encode()).digest()
            + bytes([0x41])  # user present, attested credential data
            + struct.pack(">I", self.counter)
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + cose
        )
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(attestation),
                "transports": ["usb"],
            },
            "clientExtensionResults": {},
        }

    def get(
        self, options: dict[str, Any], counter: int | None = None, origin: str = ORIGIN
    ) -> dict[str, Any]:
        self.counter = self.counter + 1 if counter is None else counter
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([0x01])
            + struct.pack(">I", self.counter)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
        }


async def csrf(client: AsyncClient, path: str) -> dict[str, str]:
    return {"x-csrf-token": field((await client.get(path)).text, "csrf_token")}


async def register(client: AsyncClient, key: SoftKey, label: str = "Clé USB") -> Response:
    headers = await csrf(client, "/security/keys")
    options = (await client.post("/api/webauthn/register/options", headers=headers)).json()
    assert (
        options["rp"]["id"] == RP_ID and options["authenticatorSelection"]["userVerification"] == "preferred"
    )
    body = {"credential": key.create(options), "label": label}
    return await client.post("/api/webauthn/credentials", json=body, headers=headers)


async def start_login(client: AsyncClient, email: str) -> tuple[dict[str, str], dict[str, Any]]:
    client.cookies.clear()
    assert (await password_step(client, email)).headers["location"] == "/mfa"
    page = await client.get("/mfa")
    assert "Utiliser ma clé de sécurité" in page.text and "/static/mfa_webauthn.js" in page.text
    headers = {"x-csrf-token": field(page.text, "csrf_token")}
    options = (await client.post("/api/webauthn/login/options", headers=headers)).json()
    return headers, options


async def test_register_a_key_then_log_in_with_it(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    await enrol(client, doctor)
    key = SoftKey()
    created = await register(client, key)
    assert created.status_code == 201 and created.json()["label"] == "Clé USB"
    assert [k["label"] for k in (await client.get("/api/webauthn/credentials")).json()] == ["Clé USB"]
    assert "Clé USB" in (await client.get("/security/keys")).text

    headers, options = await start_login(client, doctor.user.email)
    assert [c["id"] for c in options["allowCredentials"]] == [b64(key.credential_id)]
    assert (await client.get("/api/me")).status_code == 403
    before = client.cookies["ts_session"]
    done = await client.post("/api/webauthn/login", json={"credential": key.get(options)}, headers=headers)
    assert done.status_code == 200 and done.json() == {"redirect": "/"}
    assert client.cookies["ts_session"] != before  # a new session id for the new privilege
    assert (await client.get("/api/me")).status_code == 200
    [session] = [s for s in (await client.get("/api/me/sessions")).json() if s["current"]]
    assert session["mfa_method"] == "webauthn"
    async with transaction(runtime.sessionmaker) as db:
        stored = await db.scalar(select(WebAuthnCredential))
        assert stored is not None and stored.sign_count == 1 and stored.last_used_at is not None


async def test_a_counter_that_goes_backwards_is_refused(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await enrol(client, doctor)
    key = SoftKey()
    await register(client, key)
    headers, options = await start_login(client, doctor.user.email)
    ok = await client.post(
        "/api/webauthn/login", json={"credential": key.get(options, counter=7)}, headers=headers
    )
    assert ok.status_code == 200
    headers, options = await start_login(client, doctor.user.email)
    cloned = await client.post(
        "/api/webauthn/login", json={"credential": key.get(options, counter=5)}, headers=headers
    )
    assert cloned.status_code == 401 and cloned.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/me")).status_code == 403


async def test_a_challenge_serves_once(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await enrol(client, doctor)
    key = SoftKey()
    await register(client, key)
    headers, options = await start_login(client, doctor.user.email)
    bad = key.get(options, origin="https://evil.example")
    assert (
        await client.post("/api/webauthn/login", json={"credential": bad}, headers=headers)
    ).status_code == 401
    # The challenge was spent by the refused answer: a good signature of it comes too late.
    late = await client.post("/api/webauthn/login", json={"credential": key.get(options)}, headers=headers)
    assert late.status_code == 401
    assert (await client.get("/api/me")).status_code == 403


async def test_another_accounts_key_does_not_pass(client: AsyncClient, world: World) -> None:
    doctor, other = await world.professional(), await world.professional("Autre")
    await enrol(client, other)
    stolen = SoftKey()
    await register(client, stolen)
    client.cookies.clear()
    await enrol(client, doctor)
    await register(client, SoftKey())
    headers, options = await start_login(client, doctor.user.email)
    signed = stolen.get({**options, "rpId": RP_ID})
    assert (
        await client.post("/api/webauthn/login", json={"credential": signed}, headers=headers)
    ).status_code == 401


async def test_registration_needs_a_full_login_and_a_fresh_challenge(
    client: AsyncClient, world: World, runtime: Runtime
) -> None:
    doctor = await world.professional()
    await password_step(client, doctor.user.email)
    enrol_page = await client.get("/mfa/enrol")
    headers = {"x-csrf-token": field(enrol_page.text, "csrf_token")}
    assert (await client.post("/api/webauthn/register/options", headers=headers)).status_code == 403
    client.cookies.clear()
    await enrol(client, doctor)
    assert (await client.post("/api/webauthn/register/options")).status_code == 403  # no CSRF token
    key = SoftKey()
    headers = await csrf(client, "/security/keys")
    options = (await client.post("/api/webauthn/register/options", headers=headers)).json()
    body = {"credential": key.create(options, origin="https://evil.example"), "label": "x"}
    refused = await client.post("/api/webauthn/credentials", json=body, headers=headers)
    assert refused.status_code == 422
    again = await client.post(
        "/api/webauthn/credentials", json={"credential": key.create(options)}, headers=headers
    )
    assert again.status_code == 422 and "expirée" in again.json()["detail"]
    garbage = await client.post("/api/webauthn/credentials", json={"credential": {"id": 1}}, headers=headers)
    assert garbage.status_code == 422
    async with transaction(runtime.sessionmaker) as db:
        challenges = list(
            await db.scalars(select(LoginChallenge).where(LoginChallenge.kind == "webauthn_register"))
        )
        assert challenges and all(c.used_at is not None for c in challenges)
        assert await db.scalar(select(WebAuthnCredential)) is None


async def test_a_key_can_be_removed_but_not_by_someone_else(client: AsyncClient, world: World) -> None:
    doctor = await world.professional()
    await enrol(client, doctor)
    created = (await register(client, SoftKey())).json()
    other = await world.professional("Autre")
    forbidden = await client.delete(f"/api/webauthn/credentials/{created['id']}", headers=other.headers)
    assert forbidden.status_code == 404
    page = await client.get("/security/keys")
    gone = await client.post(
        f"/security/keys/{created['id']}/delete", data={"csrf_token": field(page.text, "csrf_token")}
    )
    assert gone.status_code == 303 and (await client.get("/api/webauthn/credentials")).json() == []
