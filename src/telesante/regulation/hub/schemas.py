"""What the Hub endpoints take and give."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

HubId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^fr(\.[\w-]+){2,3}$")]


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: HubId  # fr.health.samu069, fr.fire.nexsis.sdis69
    kind: Literal["RS-EDA", "RC-EDA"] = "RS-EDA"


class HubMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    direction: str
    kind: str
    peer: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    acked_at: datetime | None
    error: str | None
