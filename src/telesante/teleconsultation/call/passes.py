"""A guest's call pass: what lets an invited companion share and fetch files during the call.

A companion (nurse, pharmacist… at the patient's side) has no account and no session: the
call is the only thing that authenticated them, once, when their one-time link opened the
call socket. So the credential for files comes from that socket and nowhere else:

- **issued on the authenticated socket only**: the leg serving a companion sends a pass right
  after its welcome, then a fresh one every ``RENEW_EVERY``; no HTTP route mints one;
- **bound to the appointment and the leg**: the pass names both, signed with HMAC-SHA256 under
  a key derived from the app's secret key; the file routes refuse it for any other appointment,
  and its leg and join token go into what is stored and audited;
- **expiring with the call**: honoured only while the appointment is ``in_call`` (read from the
  database on every use, so the end of the call kills every pass at once, in every process),
  and for at most ``PASS_TTL`` after it was issued, so a pass dies within minutes of its leg
  leaving (the renewals stop with the socket); nothing is stored, so nothing is left to revoke;
- **never in a URL**: the page sends it in the ``X-Call-Pass`` header, so it reaches neither
  the history, the referrer nor the access logs.

Professionals and patients never use a pass: they have a session, and the access gate.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta

from telesante.db import utcnow
from telesante.errors import Unauthorized

PASS_TTL = timedelta(minutes=10)
RENEW_EVERY = timedelta(minutes=4)
HEADER = "x-call-pass"
PREFIX = "tsp_"
_CONTEXT = b"telesante/call-pass/v1"  # domain separation: the secret key signs other things too


@dataclass(frozen=True)
class CallPass:
    appointment_id: str
    leg_id: str
    token_id: str  # the join token that admitted the guest's leg: who they are in the records
    name: str
    expires_at: int  # unix time


def issue_pass(secret: str, claims: CallPass) -> str:
    payload = _b64(json.dumps(astuple(claims), separators=(",", ":")).encode())
    return f"{PREFIX}{payload}.{_b64(_sign(secret, payload))}"


def pass_for(secret: str, appointment_id: str, leg_id: str, token_id: str, name: str) -> str:
    expires_at = int((utcnow() + PASS_TTL).timestamp())
    return issue_pass(secret, CallPass(appointment_id, leg_id, token_id, name, expires_at))


def read_pass(secret: str, value: str, appointment_id: str, now: datetime | None = None) -> CallPass:
    """The pass's claims; Unauthorized if forged, expired or for another appointment."""
    claims = _verified(secret, value)
    if claims is None or claims.appointment_id != appointment_id:
        raise Unauthorized("laissez-passer d'appel invalide")
    if claims.expires_at <= (now or utcnow()).timestamp():
        raise Unauthorized("laissez-passer d'appel expiré : rejoignez de nouveau l'appel")
    return claims


def _verified(secret: str, value: str) -> CallPass | None:
    payload, dot, signature = value.removeprefix(PREFIX).partition(".")
    if not value.startswith(PREFIX) or not dot:
        return None
    if not hmac.compare_digest(signature.encode(), _b64(_sign(secret, payload)).encode()):
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return CallPass(*fields)
    except (ValueError, TypeError):
        return None  # signed by us, so only a change of format gets here


def _sign(secret: str, payload: str) -> bytes:
    key = hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
