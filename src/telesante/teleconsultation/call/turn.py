"""ICE servers for a participant, with time-limited TURN credentials (coturn's REST scheme).

username = "<expiry unix time>:<participant>", credential = base64(HMAC-SHA1(secret, username)):
coturn (``--use-auth-secret --static-auth-secret``) recomputes it, so nothing is stored and
a leaked credential dies at its expiry.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from typing import Any

from telesante.db import utcnow
from telesante.teleconsultation.call.settings import TurnSettings


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_config(settings: TurnSettings, participant: str, now: datetime | None = None) -> dict[str, Any]:
    """What RTCPeerConnection takes: {"iceServers": [...], "iceTransportPolicy": "all"|"relay"}."""
    stun = [u for u in settings.url_list if u.startswith("stun:")]
    turn = [u for u in settings.url_list if u.startswith(("turn:", "turns:"))]
    servers: list[dict[str, Any]] = [{"urls": stun}] if stun else []
    if turn and settings.secret:
        expiry = int((now or utcnow()).timestamp()) + settings.ttl_seconds
        username = f"{expiry}:{participant}"
        servers.append(
            {"urls": turn, "username": username, "credential": turn_credential(settings.secret, username)}
        )
    policy = "relay" if settings.relay_only and turn and settings.secret else "all"
    return {"iceServers": servers, "iceTransportPolicy": policy}
