"""What the téléassistance API takes and gives."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Point = Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=2, max_length=2)]


ONE_CALLEE = "appeler soit un médecin (doctor_id), soit une équipe (organisation et spécialité)"


class StartIn(BaseModel):
    """A named doctor, or a team: a specialty within an organisation."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(max_length=36)
    act: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    doctor_id: str | None = Field(None, max_length=36)
    team_organisation_id: str | None = Field(None, max_length=36)
    team_specialty: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    appointment_id: str | None = Field(None, max_length=36, description="the téléconsultation in progress")

    @model_validator(mode="after")
    def one_callee(self) -> "StartIn":
        team = self.team_organisation_id is not None and bool(self.team_specialty)
        if (self.doctor_id is None) == (not team):
            raise ValueError(ONE_CALLEE)
        return self


class Mark(BaseModel):
    """A mark drawn on the image, in coordinates normalised to the video frame (0–1, origin top
    left): the same place on any screen, whatever its size or orientation."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["pointer", "arrow", "circle", "line", "text"]
    points: list[Point] = Field(min_length=1, max_length=500)
    text: Annotated[str, StringConstraints(max_length=80)] | None = None
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = "#ffcc00"


class ChecklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    checklist: str = Field(max_length=40)


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["drop", "reconnected", "relay", "poor_quality", "camera_lost"]
    at: datetime | None = None
