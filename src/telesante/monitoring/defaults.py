"""Default alert rules per indication, each citing shared/domain/monitoring.md in `source`.

They are a starting point: the référentiels leave thresholds to the prescriber, per patient
(monitoring.md §2, HAS-IC). `verified` says whether the threshold's number was confirmed in a
source read for monitoring.md; recovery margins and missing-data delays are engineering choices,
never verified. docs/monitoring-thresholds.md lists the same table for readers.
"""

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from telesante.monitoring.measures import MeasureKind
from telesante.monitoring.rules import (
    MissingDataRule,
    Op,
    Rule,
    Severity,
    Threshold,
    ThresholdRule,
    TrendRule,
)


class Indication(StrEnum):
    DIABETES = "diabetes"
    HEART_FAILURE = "heart_failure"
    HYPERTENSION = "hypertension"
    CHRONIC_RESPIRATORY_FAILURE = "chronic_respiratory_failure"


INDICATION_LABELS = {
    Indication.DIABETES: "diabète",
    Indication.HEART_FAILURE: "insuffisance cardiaque",
    Indication.HYPERTENSION: "hypertension artérielle",
    Indication.CHRONIC_RESPIRATORY_FAILURE: "insuffisance respiratoire chronique",
}

GLUCOSE = frozenset({MeasureKind.GLUCOSE_CGM, MeasureKind.GLUCOSE_METER})
WEIGHT = frozenset({MeasureKind.WEIGHT})
SYSTOLIC = frozenset({MeasureKind.SYSTOLIC})
DIASTOLIC = frozenset({MeasureKind.DIASTOLIC})
SPO2 = frozenset({MeasureKind.SPO2})
MARGIN_UNVERIFIED = "marge de retour : choix d'ingénierie, non vérifié"
DELAY_UNVERIFIED = "monitoring.md §2 : aucun délai publié ; délai choisi par l'équipe, non vérifié"

HYPOGLYCAEMIA = ThresholdRule(
    code="glucose.hypo",
    label="Hypoglycémie",
    severity=Severity.WARNING,
    any_of=(Threshold(GLUCOSE, Op.LT, Decimal(70), margin=Decimal(5)),),
    source=f"monitoring.md §2 [ICTIR] Battelino, Diabetes Care 2019 : < 70 mg/dL (3,9 mmol/L) ; "
    f"{MARGIN_UNVERIFIED}",
    verified=True,
)
SEVERE_HYPOGLYCAEMIA = ThresholdRule(
    code="glucose.hypo_severe",
    label="Hypoglycémie de niveau 2",
    severity=Severity.CRITICAL,
    any_of=(Threshold(GLUCOSE, Op.LT, Decimal(54), margin=Decimal(5)),),
    source=f"monitoring.md §2 [ICTIR] Battelino, Diabetes Care 2019 : niveau 2 < 54 mg/dL (3,0 mmol/L) ; "
    f"{MARGIN_UNVERIFIED}",
    verified=True,
)
HYPERGLYCAEMIA = ThresholdRule(
    code="glucose.hyper",
    label="Hyperglycémie",
    severity=Severity.WARNING,
    any_of=(Threshold(GLUCOSE, Op.GT, Decimal(250), margin=Decimal(10)),),
    source="monitoring.md §2 [ICTIR] Battelino, Diabetes Care 2019 : temps > 250 mg/dL (13,9 mmol/L), "
    f"niveau 2 au-dessus de la cible ; seuil de mesure, pas d'alerte, dans la source ; {MARGIN_UNVERIFIED}",
    verified=True,
)
GLUCOSE_MISSING = MissingDataRule(
    code="glucose.missing",
    label="Pas de glycémie depuis 12 h",
    severity=Severity.INFO,
    measures=GLUCOSE,
    after=timedelta(hours=12),
    source=DELAY_UNVERIFIED,
)
WEIGHT_GAIN = TrendRule(
    code="weight.gain_3d",
    label="Prise de poids de plus de 2 kg en 3 jours",
    severity=Severity.WARNING,
    measures=WEIGHT,
    delta=Decimal(2),
    window=timedelta(days=3),
    margin=Decimal("0.5"),
    source="monitoring.md §2 [HFM] heartfailurematters.org (ESC HFA) : prévenir l'équipe si le poids "
    f"augmente de plus de 2 kg en 3 jours ; « 1,5 kg en 24 h » non vérifié ; {MARGIN_UNVERIFIED}",
    verified=True,
)
WEIGHT_MISSING = MissingDataRule(
    code="weight.missing",
    label="Pas de poids depuis 48 h",
    severity=Severity.INFO,
    measures=WEIGHT,
    after=timedelta(hours=48),
    source=f"{DELAY_UNVERIFIED} ; le poids quotidien est le paramètre obligatoire (lecture d'éditeur, "
    "non vérifiée)",
)
BP_GRADE_3 = ThresholdRule(
    code="bp.grade3",
    label="Pression artérielle ≥ 180/110 mmHg",
    severity=Severity.WARNING,
    any_of=(
        Threshold(SYSTOLIC, Op.GE, Decimal(180), margin=Decimal(10)),
        Threshold(DIASTOLIC, Op.GE, Decimal(110), margin=Decimal(10)),
    ),
    source="monitoring.md §2 : HTA de grade 3 ESC/ESH 2018, ≥ 180 et/ou ≥ 110 mmHg (non relu : non "
    "vérifié) ; l'urgence dépend d'une atteinte d'organe, pas du chiffre [STAT, UCH] ; "
    f"{MARGIN_UNVERIFIED}",
)
BP_MISSING = MissingDataRule(
    code="bp.missing",
    label="Pas de pression artérielle depuis 7 jours",
    severity=Severity.INFO,
    measures=SYSTOLIC | DIASTOLIC,
    after=timedelta(days=7),
    source=DELAY_UNVERIFIED,
)
LOW_SPO2 = ThresholdRule(
    code="spo2.low",
    label="SpO2 < 90 %",
    severity=Severity.WARNING,
    any_of=(Threshold(SPO2, Op.LT, Decimal(90), margin=Decimal(2)),),
    source="monitoring.md §2 [BTS] O'Driscoll 2017 : cible 88–92 % si risque hypercapnique, 94–98 % "
    "sinon ; 90 % est un seuil par défaut, à remplacer par la cible du patient (non vérifié) ; "
    f"{MARGIN_UNVERIFIED}",
)
SPO2_MISSING = MissingDataRule(
    code="spo2.missing",
    label="Pas de SpO2 depuis 48 h",
    severity=Severity.INFO,
    measures=SPO2,
    after=timedelta(hours=48),
    source=DELAY_UNVERIFIED,
)

DEFAULT_RULES: dict[Indication, tuple[Rule, ...]] = {
    Indication.DIABETES: (HYPOGLYCAEMIA, SEVERE_HYPOGLYCAEMIA, HYPERGLYCAEMIA, GLUCOSE_MISSING),
    Indication.HEART_FAILURE: (WEIGHT_GAIN, WEIGHT_MISSING),
    Indication.HYPERTENSION: (BP_GRADE_3, BP_MISSING),
    Indication.CHRONIC_RESPIRATORY_FAILURE: (LOW_SPO2, SPO2_MISSING),
}


def rules_for(indications: Iterable[Indication]) -> tuple[Rule, ...]:
    """The default rules of a patient followed for several indications, each rule once."""
    chosen = {rule.code: rule for indication in indications for rule in DEFAULT_RULES[indication]}
    return tuple(chosen.values())
