from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Text = str | None


class LineIn(BaseModel):
    """One drug. Legal mentions are optional here so that the rules (rules.py) name what is missing."""

    model_config = ConfigDict(extra="forbid")

    drug: Text = Field(None, max_length=200, description="nom de la spécialité")
    dci: Text = Field(None, max_length=200, description="dénomination commune internationale")
    dose: Text = Field(None, max_length=100, description="dosage, e.g. 500 mg")
    form: Text = Field(None, max_length=100, description="forme, e.g. comprimé")
    posology: Text = Field(None, max_length=500, description="posologie et mode d'emploi")
    duration: Text = Field(None, max_length=100, description="durée de traitement, e.g. 5 jours")
    quantity: Text = Field(None, max_length=100, description="quantité, e.g. 20 comprimés")
    packs: int | None = Field(None, ge=1, le=99, description="nombre de boîtes")
    renewals: int | None = Field(None, ge=-1000, le=1000, description="renouvellements (0 si aucun)")
    non_substitution: Text = Field(None, max_length=10, description="MTE, EFG ou CIF")


class PrescriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: str = Field(max_length=36)
    appointment_id: str | None = Field(None, max_length=36)
    patient_weight_kg: float | None = Field(None, ge=-1000, le=1000)
    patient_height_cm: float | None = Field(None, ge=-1000, le=1000)
    lines: list[LineIn] = Field(max_length=30)


class DispenseLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: int = Field(ge=0, le=1000)
    quantity: str | None = Field(None, max_length=60)


class DispenseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[DispenseLine] = Field(min_length=1, max_length=30)


class DispensationOut(BaseModel):
    line: int
    dispensed_at: datetime
    pharmacist_id: str
    quantity: str | None


class LineStatus(BaseModel):
    line: int
    allowed: int = Field(description="1 + renouvellements")
    dispensed: int
    remaining: int


class PrescriptionView(BaseModel):
    """What was signed, as signed, and what was dispensed since."""

    public_id: str
    printed_id: str
    key_id: str
    issued_at: datetime
    verified: bool = Field(description="la signature couvre exactement le contenu conservé")
    problem: str | None = Field(None, description="pourquoi la vérification échoue")
    content: dict[str, Any] | None = Field(None, description="le contenu signé; absent s'il est altéré")
    lines: list[LineStatus]
    dispensations: list[DispensationOut]


class PrescriptionCreated(BaseModel):
    public_id: str
    printed_id: str
    key_id: str
    issued_at: datetime
    content: dict[str, Any]
