"""Measures of télésurveillance: LOINC codes, UCUM conversions, impossible values (monitoring.md §1)."""

from decimal import Decimal

import pytest

from telesante.monitoring.measures import (
    CATALOGUE,
    PLAUSIBLE,
    DeviceErrorCode,
    Implausible,
    MeasureKind,
    UnknownUnit,
    check_blood_pressure,
    from_canonical,
    kind_for_loinc,
    panel_for_loinc,
    to_canonical,
)

K = MeasureKind


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("99504-3", K.GLUCOSE_CGM),  # interstitial glucose, mass (HL7 CGM guide)
        ("105272-9", K.GLUCOSE_CGM),  # interstitial glucose, molar
        ("41653-7", K.GLUCOSE_METER),
        ("14743-9", K.GLUCOSE_METER),
        ("15074-8", K.GLUCOSE_METER),
        ("8480-6", K.SYSTOLIC),
        ("8462-4", K.DIASTOLIC),
        ("8867-4", K.HEART_RATE),
        ("2708-6", K.SPO2),  # R4's fixed code
        ("59408-5", K.SPO2),  # "by pulse oximetry", second coding of finger oximeters
        ("29463-7", K.WEIGHT),
        ("8310-5", K.TEMPERATURE),
        ("9279-1", K.RESPIRATORY_RATE),
        (" 8867-4 ", K.HEART_RATE),
        ("85354-9", None),  # the BP panel carries no value of its own
        ("97507-8", None),  # CGM mean glucose over a period: not a reading
        ("1234-5", None),
    ],
)
def test_kind_for_loinc(code: str, kind: MeasureKind | None) -> None:
    assert kind_for_loinc(code) == kind


def test_blood_pressure_is_a_panel_of_two_components() -> None:
    panel = panel_for_loinc("85354-9")
    assert panel is not None
    assert panel.components == (K.SYSTOLIC, K.DIASTOLIC)
    assert panel_for_loinc("8480-6") is None


@pytest.mark.parametrize(
    ("kind", "unit"),
    [
        (K.GLUCOSE_CGM, "mg/dL"),
        (K.GLUCOSE_METER, "mg/dL"),
        (K.SYSTOLIC, "mm[Hg]"),
        (K.DIASTOLIC, "mm[Hg]"),
        (K.HEART_RATE, "/min"),
        (K.SPO2, "%"),
        (K.WEIGHT, "kg"),
        (K.TEMPERATURE, "Cel"),
        (K.RESPIRATORY_RATE, "/min"),
    ],
)
def test_canonical_units(kind: MeasureKind, unit: str) -> None:
    assert kind.spec.unit == unit
    assert kind in PLAUSIBLE


@pytest.mark.parametrize(
    ("kind", "value", "unit", "canonical"),
    [
        (K.GLUCOSE_CGM, 100, "mg/dL", Decimal(100)),
        (K.GLUCOSE_CGM, Decimal("5.5"), "mmol/L", Decimal("99.088")),  # × 18.016, one constant
        (K.GLUCOSE_CGM, 3.9, "mmol/L", Decimal("70.2624")),  # a float is read as written
        (K.GLUCOSE_METER, 10, "mmol/L", Decimal("180.16")),
        (K.GLUCOSE_CGM, 120, "mg/dl", Decimal(120)),  # common non-UCUM spelling
        (K.GLUCOSE_CGM, 5, "mmol/L", Decimal("90.08")),  # 5 mmol/L is no Nightscout error code
        (K.WEIGHT, 80000, "g", Decimal(80)),
        (K.WEIGHT, 176, "[lb_av]", Decimal("79.83225712")),
        (K.WEIGHT, 100, "lb", Decimal("45.359237")),
        (K.TEMPERATURE, Decimal("98.6"), "[degF]", Decimal(37)),
        (K.TEMPERATURE, Decimal("100.4"), "°F", Decimal(38)),
        (K.TEMPERATURE, Decimal("37.5"), "°C", Decimal("37.5")),
        (K.SYSTOLIC, Decimal("13.33220"), "kPa", Decimal(100)),
        (K.DIASTOLIC, 80, "mmHg", Decimal(80)),
        (K.HEART_RATE, 72, "{beats}/min", Decimal(72)),
        (K.HEART_RATE, 72, "bpm", Decimal(72)),
        (K.RESPIRATORY_RATE, 16, "{breaths}/min", Decimal(16)),
        (K.SPO2, 97, "%", Decimal(97)),
    ],
)
def test_to_canonical(kind: MeasureKind, value: Decimal | int | float, unit: str, canonical: Decimal) -> None:
    assert to_canonical(kind, value, unit) == canonical


@pytest.mark.parametrize(
    ("kind", "canonical", "unit", "shown"),
    [
        (K.GLUCOSE_CGM, Decimal("180.16"), "mmol/L", Decimal(10)),
        (K.GLUCOSE_CGM, Decimal(100), "mmol/L", Decimal("5.55")),
        (K.GLUCOSE_CGM, Decimal(70), "mmol/L", Decimal("3.89")),
        (K.WEIGHT, Decimal(80), "g", Decimal(80000)),
        (K.WEIGHT, Decimal("45.359237"), "[lb_av]", Decimal(100)),
        (K.TEMPERATURE, Decimal(37), "[degF]", Decimal("98.6")),
        (K.SYSTOLIC, Decimal(100), "kPa", Decimal("13.33")),
        (K.SPO2, Decimal(97), "%", Decimal(97)),
    ],
)
def test_from_canonical(kind: MeasureKind, canonical: Decimal, unit: str, shown: Decimal) -> None:
    assert round(from_canonical(kind, canonical, unit), 2) == shown


@pytest.mark.parametrize(
    ("kind", "unit"), [(kind, unit) for kind, spec in CATALOGUE.items() for unit in spec.units]
)
def test_every_unit_converts_both_ways(kind: MeasureKind, unit: str) -> None:
    low, high = PLAUSIBLE[kind]
    middle = (low + high) / 2
    back = to_canonical(kind, from_canonical(kind, middle, unit), unit)
    assert abs(back - middle) < Decimal("1e-20")


@pytest.mark.parametrize(
    ("kind", "value", "unit", "message"),
    [
        (K.GLUCOSE_CGM, 900, "mg/dL", "glycémie 900 mg/dL hors des valeurs physiologiques (40–500 mg/dL)"),
        (K.GLUCOSE_CGM, 39, "mg/dL", "glycémie 39 mg/dL hors des valeurs physiologiques (40–500 mg/dL)"),
        (K.GLUCOSE_CGM, 501, "mg/dL", "glycémie 501 mg/dL hors des valeurs physiologiques (40–500 mg/dL)"),
        (
            K.GLUCOSE_CGM,
            50,
            "mmol/L",
            "glycémie 50 mmol/L (soit 900,8 mg/dL) hors des valeurs physiologiques (40–500 mg/dL)",
        ),
        (
            K.GLUCOSE_METER,
            601,
            "mg/dL",
            "glycémie capillaire 601 mg/dL hors des valeurs physiologiques (10–600 mg/dL)",
        ),
        (
            K.HEART_RATE,
            19,
            "/min",
            "fréquence cardiaque 19 /min hors des valeurs physiologiques (20–300 /min)",
        ),
        (
            K.HEART_RATE,
            301,
            "/min",
            "fréquence cardiaque 301 /min hors des valeurs physiologiques (20–300 /min)",
        ),
        (K.SPO2, 101, "%", "SpO2 101 % hors des valeurs physiologiques (50–100 %)"),
        (K.SPO2, Decimal("49.9"), "%", "SpO2 49,9 % hors des valeurs physiologiques (50–100 %)"),
        (K.WEIGHT, Decimal("0.4"), "kg", "poids 0,4 kg hors des valeurs physiologiques (0,5–400 kg)"),
        (
            K.WEIGHT,
            900,
            "[lb_av]",
            "poids 900 lb (soit 408,2 kg) hors des valeurs physiologiques (0,5–400 kg)",
        ),
        (K.TEMPERATURE, 46, "Cel", "température 46 °C hors des valeurs physiologiques (25–45 °C)"),
        (
            K.TEMPERATURE,
            212,
            "[degF]",
            "température 212 °F (soit 100 °C) hors des valeurs physiologiques (25–45 °C)",
        ),
        (
            K.SYSTOLIC,
            310,
            "mm[Hg]",
            "pression systolique 310 mmHg hors des valeurs physiologiques (50–300 mmHg)",
        ),
        (
            K.RESPIRATORY_RATE,
            2,
            "/min",
            "fréquence respiratoire 2 /min hors des valeurs physiologiques (4–80 /min)",
        ),
    ],
)
def test_impossible_values_are_refused_with_what_is_wrong(
    kind: MeasureKind, value: Decimal | int, unit: str, message: str
) -> None:
    with pytest.raises(Implausible) as refused:
        to_canonical(kind, value, unit)
    assert str(refused.value) == message
    assert not isinstance(refused.value, DeviceErrorCode)


@pytest.mark.parametrize("kind", list(MeasureKind))
def test_bounds_are_inclusive(kind: MeasureKind) -> None:
    low, high = PLAUSIBLE[kind]
    unit = kind.spec.unit
    assert to_canonical(kind, low, unit) == low
    assert to_canonical(kind, high, unit) == high
    for outside in (low - Decimal("0.1"), high + Decimal("0.1")):
        with pytest.raises(Implausible):
            to_canonical(kind, outside, unit)


@pytest.mark.parametrize("code", range(1, 13))
def test_nightscout_error_codes_are_not_glucose(code: int) -> None:
    with pytest.raises(DeviceErrorCode) as refused:
        to_canonical(K.GLUCOSE_CGM, code, "mg/dL")
    assert str(refused.value).startswith(f"glycémie {code} mg/dL refusée : code d'erreur du capteur")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "glycémie 5 mg/dL refusée : code d'erreur du capteur (?NC, capteur non calibré), pas une mesure"),
        (
            5.0,
            "glycémie 5 mg/dL refusée : code d'erreur du capteur (?NC, capteur non calibré), pas une mesure",
        ),
        (
            10,
            "glycémie 10 mg/dL refusée : code d'erreur du capteur (???, déviation de puissance), "
            "pas une mesure",
        ),
        (7, "glycémie 7 mg/dL refusée : code d'erreur du capteur (code réservé), pas une mesure"),
    ],
)
def test_nightscout_error_code_messages(value: int | float, message: str) -> None:
    with pytest.raises(DeviceErrorCode) as refused:
        to_canonical(K.GLUCOSE_CGM, value, "mg/dL")
    assert str(refused.value) == message


@pytest.mark.parametrize("value", [Decimal("5.5"), 13, 0])
def test_low_values_that_are_no_error_code_are_simply_impossible(value: Decimal | int) -> None:
    with pytest.raises(Implausible) as refused:
        to_canonical(K.GLUCOSE_CGM, value, "mg/dL")
    assert not isinstance(refused.value, DeviceErrorCode)


@pytest.mark.parametrize(
    ("kind", "unit", "message"),
    [
        (K.SPO2, "mmol", "unité « mmol » non acceptée pour SpO2 (unités acceptées : %)"),
        (K.GLUCOSE_CGM, "mg", "unité « mg » non acceptée pour glycémie (unités acceptées : mg/dL, mmol/L)"),
        (
            K.GLUCOSE_CGM,
            "MG/DL",
            "unité « MG/DL » non acceptée pour glycémie (unités acceptées : mg/dL, mmol/L)",
        ),
        (K.WEIGHT, "mg/dL", "unité « mg/dL » non acceptée pour poids (unités acceptées : kg, g, lb)"),
        (K.TEMPERATURE, "K", "unité « K » non acceptée pour température (unités acceptées : °C, °F)"),
        (
            K.HEART_RATE,
            "%",
            "unité « % » non acceptée pour fréquence cardiaque (unités acceptées : /min, {beats}/min)",
        ),
    ],
)
def test_unknown_units_are_refused(kind: MeasureKind, unit: str, message: str) -> None:
    with pytest.raises(UnknownUnit) as refused:
        to_canonical(kind, 80, unit)
    assert str(refused.value) == message


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"), True])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(Implausible) as refused:
        to_canonical(K.SPO2, value, "%")  # type: ignore[arg-type]
    assert str(refused.value).startswith("SpO2 : valeur non numérique (")


@pytest.mark.parametrize(("systolic", "diastolic"), [(120, 80), (91, 90)])
def test_blood_pressure_accepted(systolic: int, diastolic: int) -> None:
    check_blood_pressure(Decimal(systolic), Decimal(diastolic))


@pytest.mark.parametrize(
    ("systolic", "diastolic", "message"),
    [
        (90, 90, "pression systolique 90 mmHg inférieure ou égale à la diastolique 90 mmHg"),
        (80, 120, "pression systolique 80 mmHg inférieure ou égale à la diastolique 120 mmHg"),
    ],
)
def test_systolic_not_above_diastolic_is_refused(systolic: int, diastolic: int, message: str) -> None:
    with pytest.raises(Implausible) as refused:
        check_blood_pressure(Decimal(systolic), Decimal(diastolic))
    assert str(refused.value) == message
