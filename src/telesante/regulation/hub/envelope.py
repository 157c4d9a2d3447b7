"""The EDXL-DE envelope every Hub Santé message travels in, with the RC-DE header of its content.

hubsante-model 0.1.1 has no model for either: these follow ANS's published schemas
(SAMU-Hub-Modeles `EDXL-DE-envelope-only` and `RC-DE`) and the Hub's own sample messages
(SAMU-Hub-Sante `sample/valid/`): one content object whose `message` holds the RC-DE header
fields next to the use case's root (`createCaseHealth`, `reference`, `error`…).
"""

import json
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

PARIS = ZoneInfo("Europe/Paris")
# The Hub refuses "Z": an explicit offset, seconds, nothing finer (regulation.md §4).
OFFSET_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[\-+]\d{2}:\d{2}$"
# How long the Hub may hold a message for an absent recipient; a shared file stays relevant for
# its whole regulation, so the envelope outlives a long outage of either side.
LIFETIME = timedelta(days=7)
ADDRESS_SCHEME = "hubex"
LANGUAGE = "fr-FR"
MAX_BYTES = 1024 * 1024

HubTime = Annotated[str, StringConstraints(pattern=OFFSET_TIME)]
HubId = Annotated[str, StringConstraints(pattern=r"^[\w.-]{3,60}$")]
DistributionKind = Literal["Report", "Update", "Cancel", "Ack", "Error"]


def hub_time(moment: datetime) -> str:
    """A Hub date-time: Paris wall-clock time with its offset, to the second."""
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)


class ExplicitAddress(_Model):
    scheme: str = Field(alias="explicitAddressScheme")
    value: HubId = Field(alias="explicitAddressValue")


class Descriptor(_Model):
    language: str
    explicit_address: ExplicitAddress = Field(alias="explicitAddress")


class Embedded(_Model):
    message: dict[str, Any]


class JsonContent(_Model):
    embedded: Embedded = Field(alias="embeddedJsonContent")


class Content(_Model):
    json_content: JsonContent = Field(alias="jsonContent")


class Envelope(_Model):
    distribution_id: Annotated[str, StringConstraints(min_length=1, max_length=120)] = Field(
        alias="distributionID"
    )
    sender_id: HubId = Field(alias="senderID")
    sent: HubTime = Field(alias="dateTimeSent")
    expires: HubTime = Field(alias="dateTimeExpires")
    status: Literal["Actual", "Exercise"] = Field(alias="distributionStatus")
    kind: DistributionKind = Field(alias="distributionKind")
    descriptor: Descriptor
    content: list[Content] = Field(min_length=1)

    @property
    def recipient(self) -> str:
        return self.descriptor.explicit_address.value

    @property
    def message(self) -> dict[str, Any]:
        """The first content's message: the RC-DE header and the use case's root."""
        return self.content[0].json_content.embedded.message


class Malformed(ValueError):
    """Not an EDXL-DE envelope we can read; the text says why, in French."""


def build(
    *, sender: str, recipient: str, kind: DistributionKind, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The envelope of `body` (a use case's root, e.g. {"createCaseHealth": {…}}), ready to send."""
    distribution_id = f"{sender}_{uuid.uuid4()}"
    sent = hub_time(now)
    header = {
        "messageId": distribution_id,
        "sender": {"name": sender, "URI": f"{ADDRESS_SCHEME}:{sender}"},
        "sentAt": sent,
        "kind": kind,
        "status": "Actual",
        "recipient": [{"name": recipient, "URI": f"{ADDRESS_SCHEME}:{recipient}"}],
    }
    return {
        "distributionID": distribution_id,
        "senderID": sender,
        "dateTimeSent": sent,
        "dateTimeExpires": hub_time(now + LIFETIME),
        "distributionStatus": "Actual",
        "distributionKind": kind,
        "descriptor": {
            "language": LANGUAGE,
            "explicitAddress": {"explicitAddressScheme": ADDRESS_SCHEME, "explicitAddressValue": recipient},
        },
        "content": [{"jsonContent": {"embeddedJsonContent": {"message": {**header, **body}}}}],
    }


def parse(raw: bytes) -> Envelope:
    """The envelope of a received message, or Malformed."""
    if len(raw) > MAX_BYTES:
        raise Malformed(f"message de plus de {MAX_BYTES} octets")
    try:
        data = json.loads(raw.decode())
    except (UnicodeDecodeError, ValueError):
        raise Malformed("JSON illisible") from None
    try:
        return Envelope.model_validate(data)
    except ValidationError as error:
        raise Malformed(f"enveloppe EDXL-DE invalide : {reasons(error)}") from None


def reasons(error: ValidationError, limit: int = 300) -> str:
    """Each wrong field by its path, for the RS-ERROR's cause (the model's own words)."""
    text = "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'racine'} : {item['msg']}"
        for item in error.errors()
    )
    return text[:limit]
