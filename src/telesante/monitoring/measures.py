"""The measures of télésurveillance: LOINC codes, UCUM units and impossible values.

Facts from shared/domain/monitoring.md §1: the LOINC codes and canonical UCUM units come from the
FHIR R4 vital-signs profile and the HL7 CGM guide (capillary-meter glucose codes: unverified);
mg/dL ↔ mmol/L uses the molar mass of glucose; mm[Hg] ↔ kPa and [lb_av] ↔ kg use UCUM's own
definitions. `PLAUSIBLE` holds the bounds outside which a value is refused as impossible: no
standard gives them, they are engineering choices (vendor ranges for CGM, the rest unverified),
kept in one table so they can change without touching callers. A value is refused, not clipped:
a CGM's "LOW"/"HIGH" flags are not numbers and must reach the rules some other way.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

# mg/dL per mmol/L: molar mass of glucose 180.16 g/mol / 10 (monitoring.md §1). Nightscout uses
# 18.01559 and many clinical tables 18; the platform uses this one constant everywhere.
GLUCOSE_MG_DL_PER_MMOL_L = Fraction("18.016")
MMHG_IN_KPA = Fraction("0.1333220")  # UCUM: m[Hg] = 133.3220 kPa
LB_AV_IN_KG = Fraction("0.45359237")  # UCUM: [lb_av] = 7000 [gr], [gr] = 64.79891 mg


class MeasureKind(StrEnum):
    GLUCOSE_CGM = "glucose_cgm"  # interstitial, continuous sensor
    GLUCOSE_METER = "glucose_meter"  # capillary blood, finger-prick meter
    SYSTOLIC = "systolic"  # component of the blood-pressure panel
    DIASTOLIC = "diastolic"
    HEART_RATE = "heart_rate"
    SPO2 = "spo2"
    WEIGHT = "weight"
    TEMPERATURE = "temperature"
    RESPIRATORY_RATE = "respiratory_rate"

    @property
    def spec(self) -> "Spec":
        return CATALOGUE[self]


# Accept from low to high inclusive, in the canonical unit (monitoring.md §1, all unverified).
PLAUSIBLE: dict[MeasureKind, tuple[Decimal, Decimal]] = {
    MeasureKind.GLUCOSE_CGM: (Decimal(40), Decimal(500)),  # Dexcom 40–400, Libre 40–500 mg/dL
    MeasureKind.GLUCOSE_METER: (Decimal(10), Decimal(600)),
    MeasureKind.SYSTOLIC: (Decimal(50), Decimal(300)),  # not in monitoring.md: our choice
    MeasureKind.DIASTOLIC: (Decimal(20), Decimal(200)),  # not in monitoring.md: our choice
    MeasureKind.HEART_RATE: (Decimal(20), Decimal(300)),
    MeasureKind.SPO2: (Decimal(50), Decimal(100)),
    MeasureKind.WEIGHT: (Decimal("0.5"), Decimal(400)),
    MeasureKind.TEMPERATURE: (Decimal(25), Decimal(45)),
    MeasureKind.RESPIRATORY_RATE: (Decimal(4), Decimal(80)),  # not in monitoring.md: our choice
}

# Nightscout reserves sgv 1–12 for Dexcom error codes (monitoring.md §1; lib/plugins/errorcodes.js).
NIGHTSCOUT_ERROR_CODES: dict[int, str] = {
    1: "?SN, capteur inactif",
    2: "?MD, déviation minimale",
    3: "?NA, pas d'antenne",
    5: "?NC, capteur non calibré",
    6: "?CD, déviation des comptages",
    9: "?AD, déviation absolue",
    10: "???, déviation de puissance",
    12: "?RF, mauvaise réception radio",
}
NIGHTSCOUT_RESERVED = (1, 12)  # the whole range is reserved, assigned or not

# Common spellings that are not UCUM codes (UCUM is case-sensitive), mapped to the UCUM code.
ALIASES = {
    "mg/dl": "mg/dL",
    "mmol/l": "mmol/L",
    "mmHg": "mm[Hg]",
    "bpm": "/min",
    "°C": "Cel",
    "°F": "[degF]",
    "lb": "[lb_av]",
    "lbs": "[lb_av]",
}
DISPLAY = {"mm[Hg]": "mmHg", "Cel": "°C", "[degF]": "°F", "[lb_av]": "lb"}


@dataclass(frozen=True)
class Conversion:
    """canonical = (value + shift) × scale."""

    scale: Fraction
    shift: Fraction = Fraction(0)


@dataclass(frozen=True)
class Spec:
    label: str  # French, as in an error message: "glycémie 900 mg/dL …"
    loinc: tuple[str, ...]  # the first is the one to emit; the others are also understood
    unit: str  # canonical UCUM code: rules and thresholds use it
    units: dict[str, Conversion]  # accepted UCUM codes, canonical included
    category: str  # FHIR observation category


ONE = Conversion(Fraction(1))
GLUCOSE_UNITS = {"mg/dL": ONE, "mmol/L": Conversion(GLUCOSE_MG_DL_PER_MMOL_L)}
PRESSURE_UNITS = {"mm[Hg]": ONE, "kPa": Conversion(1 / MMHG_IN_KPA)}

CATALOGUE: dict[MeasureKind, Spec] = {
    MeasureKind.GLUCOSE_CGM: Spec("glycémie", ("99504-3", "105272-9"), "mg/dL", GLUCOSE_UNITS, "laboratory"),
    MeasureKind.GLUCOSE_METER: Spec(
        "glycémie capillaire", ("41653-7", "14743-9", "15074-8"), "mg/dL", GLUCOSE_UNITS, "laboratory"
    ),
    MeasureKind.SYSTOLIC: Spec("pression systolique", ("8480-6",), "mm[Hg]", PRESSURE_UNITS, "vital-signs"),
    MeasureKind.DIASTOLIC: Spec("pression diastolique", ("8462-4",), "mm[Hg]", PRESSURE_UNITS, "vital-signs"),
    MeasureKind.HEART_RATE: Spec(
        "fréquence cardiaque", ("8867-4",), "/min", {"/min": ONE, "{beats}/min": ONE}, "vital-signs"
    ),
    MeasureKind.SPO2: Spec("SpO2", ("2708-6", "59408-5"), "%", {"%": ONE}, "vital-signs"),
    MeasureKind.WEIGHT: Spec(
        "poids",
        ("29463-7",),
        "kg",
        {"kg": ONE, "g": Conversion(Fraction(1, 1000)), "[lb_av]": Conversion(LB_AV_IN_KG)},
        "vital-signs",
    ),
    MeasureKind.TEMPERATURE: Spec(
        "température",
        ("8310-5",),
        "Cel",
        {"Cel": ONE, "[degF]": Conversion(Fraction(5, 9), Fraction(-32))},
        "vital-signs",
    ),
    MeasureKind.RESPIRATORY_RATE: Spec(
        "fréquence respiratoire", ("9279-1",), "/min", {"/min": ONE, "{breaths}/min": ONE}, "vital-signs"
    ),
}
BY_LOINC = {code: kind for kind, spec in CATALOGUE.items() for code in spec.loinc}


@dataclass(frozen=True)
class Panel:
    """A LOINC panel carries no value of its own: its components do (FHIR `component`)."""

    loinc: str
    label: str
    components: tuple[MeasureKind, ...]


BLOOD_PRESSURE = Panel("85354-9", "pression artérielle", (MeasureKind.SYSTOLIC, MeasureKind.DIASTOLIC))
PANELS = {BLOOD_PRESSURE.loinc: BLOOD_PRESSURE}


class MeasureError(ValueError):
    """A value that must not be stored as a measurement; the message says why, in French."""


class UnknownUnit(MeasureError):
    pass


class Implausible(MeasureError):
    pass


class DeviceErrorCode(Implausible):
    """A CGM error code sent in the glucose field (Nightscout sgv 1–12)."""


def kind_for_loinc(code: str) -> MeasureKind | None:
    """The measure a LOINC code carries a value for; None for panels and unknown codes."""
    return BY_LOINC.get(code.strip())


def panel_for_loinc(code: str) -> Panel | None:
    return PANELS.get(code.strip())


def to_canonical(kind: MeasureKind, value: Decimal | int | float, ucum_unit: str) -> Decimal:
    """The value in the kind's canonical unit, refused if the unit is unknown or the value impossible."""
    spec = kind.spec
    unit = _accepted_unit(kind, ucum_unit)
    number = _finite(kind, value, unit)
    if kind is MeasureKind.GLUCOSE_CGM and unit == "mg/dL" and _is_nightscout_error(number):
        raise DeviceErrorCode(_device_error_message(int(number)))
    conversion = spec.units[unit]
    canonical = _decimal((Fraction(number) + conversion.shift) * conversion.scale)
    low, high = PLAUSIBLE[kind]
    if not low <= canonical <= high:
        raise Implausible(_implausible_message(kind, number, unit, canonical))
    return canonical


def from_canonical(kind: MeasureKind, value: Decimal, ucum_unit: str) -> Decimal:
    """A canonical value expressed in another accepted unit, for display (no plausibility check)."""
    conversion = kind.spec.units[_accepted_unit(kind, ucum_unit)]
    return _decimal(Fraction(value) / conversion.scale - conversion.shift)


def check_blood_pressure(systolic: Decimal, diastolic: Decimal) -> None:
    """Both components in mm[Hg]: the systolic pressure is always above the diastolic."""
    if systolic <= diastolic:
        raise Implausible(
            f"pression systolique {french(systolic)} mmHg inférieure ou égale "
            f"à la diastolique {french(diastolic)} mmHg"
        )


def display_unit(ucum_unit: str) -> str:
    return DISPLAY.get(ucum_unit, ucum_unit)


def french(number: Decimal, places: int | None = None) -> str:
    """A number as a French reader writes it: decimal comma, no trailing zeros."""
    if places is not None:
        number = round(number, places)
    return format(number.normalize(), "f").replace(".", ",")


def _accepted_unit(kind: MeasureKind, ucum_unit: str) -> str:
    spec = kind.spec
    unit = ucum_unit.strip()
    unit = unit if unit in spec.units else ALIASES.get(unit, unit)
    if unit not in spec.units:
        accepted = ", ".join(display_unit(u) for u in spec.units)
        raise UnknownUnit(
            f"unité « {ucum_unit} » non acceptée pour {spec.label} (unités acceptées : {accepted})"
        )
    return unit


def _finite(kind: MeasureKind, value: Decimal | int | float, unit: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise Implausible(f"{kind.spec.label} : valeur non numérique ({value!r})")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise Implausible(f"{kind.spec.label} : valeur non numérique ({value} {display_unit(unit)})")
    return number


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _implausible_message(kind: MeasureKind, number: Decimal, unit: str, canonical: Decimal) -> str:
    spec = kind.spec
    low, high = PLAUSIBLE[kind]
    sent = f"{spec.label} {french(number)} {display_unit(unit)}"
    if unit != spec.unit:
        sent += f" (soit {french(canonical, 1)} {display_unit(spec.unit)})"
    bounds = f"{french(low)}–{french(high)} {display_unit(spec.unit)}"
    return f"{sent} hors des valeurs physiologiques ({bounds})"


def _is_nightscout_error(number: Decimal) -> bool:
    low, high = NIGHTSCOUT_RESERVED
    return number == number.to_integral_value() and low <= number <= high


def _device_error_message(code: int) -> str:
    meaning = NIGHTSCOUT_ERROR_CODES.get(code, "code réservé")
    return f"glycémie {code} mg/dL refusée : code d'erreur du capteur ({meaning}), pas une mesure"
