"""How télésurveillance values and alerts read in French, for professionals and for patients.

The patient's sentences avoid jargon: no rule codes, no "hysteresis", no percentiles; a value, a
moment, what it means and who knows about it.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from telesante.monitoring.defaults import INDICATION_LABELS, Indication
from telesante.monitoring.glucose import GlucoseSummary
from telesante.monitoring.measures import MeasureKind, display_unit, french
from telesante.monitoring.models import Alert, Measurement
from telesante.monitoring.panels import duration
from telesante.monitoring.rules import MissingDataRule, Op, Rule, ThresholdRule, TrendRule

PARIS = ZoneInfo("Europe/Paris")
SEVERITY_LABELS = {"critical": "Critique", "warning": "Alerte", "info": "Information"}
STATUS_LABELS = {"open": "à prendre en compte", "acknowledged": "prise en compte", "resolved": "résolue"}
PLACES = {MeasureKind.WEIGHT: 1, MeasureKind.TEMPERATURE: 1}
# The patient's words for their measures (the catalogue's labels are the professionals').
PLAIN_NAMES = {
    MeasureKind.GLUCOSE_CGM: "votre glycémie",
    MeasureKind.GLUCOSE_METER: "votre glycémie",
    MeasureKind.SYSTOLIC: "votre tension (chiffre du haut)",
    MeasureKind.DIASTOLIC: "votre tension (chiffre du bas)",
    MeasureKind.HEART_RATE: "votre pouls",
    MeasureKind.SPO2: "l'oxygène dans votre sang",
    MeasureKind.WEIGHT: "votre poids",
    MeasureKind.TEMPERATURE: "votre température",
    MeasureKind.RESPIRATORY_RATE: "votre respiration",
}
PLAIN_TITLES = {
    MeasureKind.GLUCOSE_CGM: "Glycémie (capteur)",
    MeasureKind.GLUCOSE_METER: "Glycémie (lecteur au doigt)",
    MeasureKind.SYSTOLIC: "Tension, chiffre du haut",
    MeasureKind.DIASTOLIC: "Tension, chiffre du bas",
    MeasureKind.HEART_RATE: "Pouls",
    MeasureKind.SPO2: "Oxygène dans le sang",
    MeasureKind.WEIGHT: "Poids",
    MeasureKind.TEMPERATURE: "Température",
    MeasureKind.RESPIRATORY_RATE: "Respiration",
}


def paris(moment: datetime, pattern: str = "%d/%m/%Y à %H:%M") -> str:
    return moment.astimezone(PARIS).strftime(pattern)


def value_text(kind: str, value: Decimal) -> str:
    """48 mg/dL, 82,4 kg, 95 %: the value in its canonical unit, rounded as it is read."""
    measure = MeasureKind(kind)
    return f"{french(value, PLACES.get(measure, 0))} {display_unit(measure.spec.unit)}"


def measurement_text(measurement: Measurement) -> str:
    return value_text(measurement.kind, measurement.value)


def kind_label(kind: str) -> str:
    return MeasureKind(kind).spec.label.capitalize()


def indication_label(indication: str) -> str:
    return INDICATION_LABELS.get(Indication(indication), indication)


def plain_alert(alert: Alert, rule: Rule | None, evidence: list[Measurement]) -> str:
    """One sentence a patient understands: what happened, when, and that the team knows."""
    when = paris(alert.occurred_at, "le %d/%m/%Y à %H:%M")
    if isinstance(rule, MissingDataRule):
        name = PLAIN_NAMES[min(rule.measures)]
        return (
            f"Aucune mesure de {name} n'est arrivée pendant plus de {duration(rule.after)} "
            f"(constaté {when}) ; "
            f"{_who_knows(alert)} Vérifiez que votre appareil est allumé, chargé et connecté."
        )
    return f"{_what(alert, rule)} {when}{_values(evidence)} ; {_who_knows(alert)}"


def _what(alert: Alert, rule: Rule | None) -> str:
    if isinstance(rule, ThresholdRule) and rule.any_of:
        threshold = rule.any_of[0]
        name = PLAIN_NAMES[min(threshold.kinds)]
        moved = "est descendue sous" if threshold.op in (Op.LT, Op.LE) else "est montée au-dessus de"
        if threshold.op is Op.GE:
            moved = "a atteint ou dépassé"
        limits = " / ".join(f"{french(t.limit)} {display_unit(min(t.kinds).spec.unit)}" for t in rule.any_of)
        return f"{_capital(name)} {moved} {limits}"
    if isinstance(rule, TrendRule):
        name = PLAIN_NAMES[min(rule.measures)]
        way = "augmenté" if rule.rise else "baissé"
        days = max(1, round(rule.window.total_seconds() / 86400))
        unit = display_unit(min(rule.measures).spec.unit)
        change = f"a {way} de plus de {french(rule.delta)} {unit} en {days} jours"
        return f"{_capital(name)} {change}"
    return alert.label


def _values(evidence: list[Measurement]) -> str:
    if not evidence:
        return ""
    return " (" + ", ".join(measurement_text(m) for m in evidence[-2:]) + ")"


def _who_knows(alert: Alert) -> str:
    if alert.status == "resolved" and alert.resolved_at:
        return f"l'équipe qui vous suit l'a traitée le {paris(alert.resolved_at, '%d/%m/%Y')}."
    if alert.status == "acknowledged" and alert.acknowledged_at:
        return f"l'équipe qui vous suit en a pris connaissance le {paris(alert.acknowledged_at)}."
    return "l'équipe qui vous suit a été prévenue."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def plain_trends(measurements: list[Measurement], summary: GlucoseSummary | None) -> list[str]:
    """What the last days show, one sentence per measure, in words a patient uses."""
    by_kind: dict[MeasureKind, list[Measurement]] = {}
    for measurement in measurements:
        by_kind.setdefault(MeasureKind(measurement.kind), []).append(measurement)
    sentences = []
    if summary is not None and summary.in_range is not None and summary.mean is not None:
        sentences.append(
            f"Sur cette période, votre glycémie était dans la zone visée (70 à 180 mg/dL) "
            f"{_percent(summary.in_range)} du temps, en dessous {_percent(summary.below_70 or 0)} du temps "
            f"et au-dessus {_percent(summary.above_180 or 0)} du temps. "
            f"Votre glycémie moyenne : {round(summary.mean)} mg/dL."
        )
    for kind, series in by_kind.items():
        if kind is MeasureKind.GLUCOSE_CGM and summary is not None:
            continue
        first, last = series[0], series[-1]
        name = _capital(PLAIN_NAMES[kind])
        if first is last:
            sentences.append(f"{name} : {measurement_text(last)} le {paris(last.effective_at, '%d/%m')}.")
        else:
            low, high = min(m.value for m in series), max(m.value for m in series)
            sentences.append(
                f"{name} : de {measurement_text(first)} le {paris(first.effective_at, '%d/%m')} "
                f"à {measurement_text(last)} le {paris(last.effective_at, '%d/%m')} "
                f"(entre {value_text(kind, low)} et {value_text(kind, high)})."
            )
    return sentences


def _percent(share: float) -> str:
    return f"{round(share)} %"
