"""The monthly télésurveillance report as a PDF: the period's summary, the charts (the same shapes
as the web page, drawn with reportlab graphics), the alerts and how the team handled them, the
rules in force, and for a finished month whether the operator forfait was due and why.

Everything is read into plain values first (`printed`), then rendered in a thread (CPU work).
`invariant` makes the same content give the same bytes.
"""

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from zoneinfo import ZoneInfo

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from telesante.kit.pdf import PageWriter, pdf_text
from telesante.monitoring import charts, panels, wording
from telesante.monitoring.forfait import Assessment, month_name
from telesante.monitoring.measures import MeasureKind, display_unit
from telesante.monitoring.month_data import MonthData

PARIS = ZoneInfo("Europe/Paris")
WIDTH = A4[0] - 36 * mm
BOTTOM = 20 * mm


@dataclass(frozen=True)
class PrintedMonth:
    title: str
    subtitle: str
    patient: list[str]
    program: list[str]
    summary: list[str]
    figures: list[tuple[str, charts.Figure]]
    alerts: list[list[str]]
    rules: list[str]
    forfait: list[str]
    produced: str


def printed(data: MonthData, now: datetime, assessment: Assessment | None) -> PrintedMonth:
    program = data.program
    indication = wording.indication_label(program.indication)
    state = "" if data.complete else f" (intermédiaire, au {wording.paris(data.until, '%d/%m/%Y à %H:%M')})"
    return PrintedMonth(
        title="RAPPORT MENSUEL DE TÉLÉSURVEILLANCE",
        subtitle=f"{indication.capitalize()} — {month_name(data.month)}{state}",
        patient=_patient(data),
        program=[
            f"Programme du {wording.paris(program.starts_at, '%d/%m/%Y')} "
            f"au {wording.paris(program.ends_at, '%d/%m/%Y')}",
            f"Prescrit par {data.prescriber} ; équipe de l'opérateur : {', '.join(data.team)}",
        ],
        summary=_summary(data),
        figures=_figures(data),
        alerts=[_alert(data, alert.id) for alert in data.alerts],
        rules=[f"{rule.label} : {panels.describe_rule(rule)}" for rule in data.rules],
        forfait=_forfait(assessment),
        produced=f"Produit par Telesante le {wording.paris(now)} (heure de Paris).",
    )


def _patient(data: MonthData) -> list[str]:
    patient = data.patient
    line = f"Patient : {patient.display_name}, né(e) le {patient.birth_date.strftime('%d/%m/%Y')}"
    return [line + (f" — INS {patient.ins_matricule}" if patient.ins_matricule else "")]


def _summary(data: MonthData) -> list[str]:
    share = round(100 * data.days_with_data / data.followed_days) if data.followed_days else 0
    lines = [
        f"Jours suivis dans le mois : {data.followed_days} ; "
        f"jours avec des mesures : {data.days_with_data} ({share} %)",
        f"Alertes du mois : {len(data.alerts)}",
    ]
    by_kind: dict[str, list[float]] = {}
    for measurement in data.measurements:
        by_kind.setdefault(measurement.kind, []).append(float(measurement.value))
    for kind, values in by_kind.items():
        unit = display_unit(MeasureKind(kind).spec.unit)
        lines.append(
            f"{wording.kind_label(kind)} : {len(values)} mesure(s), de {charts.number(min(values))} à "
            f"{charts.number(max(values))} {unit}, moyenne {charts.number(fmean(values))} {unit}"
        )
    if (g := data.glucose) is not None and g.mean is not None:
        lines.append(
            f"Capteur de glucose : moyenne {round(g.mean)} mg/dL, GMI {charts.number(g.gmi or 0)} %, "
            f"CV {charts.number(g.cv or 0)} % ; "
            f"dans la cible 70–180 mg/dL {charts.number(g.in_range or 0)} %, "
            f"< 70 : {charts.number(g.below_70 or 0)} %, < 54 : {charts.number(g.below_54 or 0)} %, "
            f"> 180 : {charts.number(g.above_180 or 0)} %, > 250 : {charts.number(g.above_250 or 0)} %"
        )
        if not g.sufficiency.sufficient:
            lines.append(f"Indicateurs du capteur à lire avec prudence : {g.sufficiency.reason}")
    return lines


def _figures(data: MonthData) -> list[tuple[str, charts.Figure]]:
    points = [panels.Point(MeasureKind(m.kind), m.value, m.effective_at) for m in data.measurements]
    found = [
        (spec.title, charts.time_figure(spec, WIDTH, 130))
        for spec in panels.time_charts(points, data.rules, data.start, data.end)
    ]
    if data.glucose is not None and data.glucose.in_range is not None:
        found.append(("Temps dans les cibles", charts.ranges_figure(data.glucose, WIDTH, 64)))
        found.append(("Profil glycémique ambulatoire (AGP)", charts.agp_figure(data.glucose.agp, WIDTH, 170)))
    return found


def _alert(data: MonthData, alert_id: str) -> list[str]:
    alert = next(a for a in data.alerts if a.id == alert_id)
    evidence = ", ".join(wording.measurement_text(m) for m in data.evidence.get(alert_id, [])[-5:]) or "—"
    lines = [
        f"{wording.paris(alert.occurred_at)} — {alert.label} "
        f"({wording.SEVERITY_LABELS[alert.severity].lower()})",
        f"Mesures : {evidence} ; levée le {wording.paris(alert.raised_at)}"
        + (f" ; {alert.episodes} épisodes" if alert.episodes > 1 else ""),
    ]
    if alert.escalated_at:
        lines.append(
            f"Transmise au niveau {alert.escalation_level + 1} de l'équipe "
            f"le {wording.paris(alert.escalated_at)}"
        )
    if alert.acknowledged_at:
        who = data.names.get(alert.acknowledged_by_user_id or "", "l'équipe")
        lines.append(
            f"Prise en compte par {who} le {wording.paris(alert.acknowledged_at)} : "
            f"{alert.acknowledgement or ''}"
        )
    if alert.resolved_at:
        who = data.names.get(alert.resolved_by_user_id or "", "l'équipe")
        lines.append(f"Résolue par {who} le {wording.paris(alert.resolved_at)} : {alert.resolution or '—'}")
    if not alert.acknowledged_at and not alert.resolved_at:
        lines.append("Pas encore prise en compte à la date du rapport.")
    return lines


def _forfait(assessment: Assessment | None) -> list[str]:
    if assessment is None:
        return ["Mois en cours : le forfait de l'opérateur est examiné une fois le mois écoulé."]
    verdict = "dû" if assessment.billable else "non dû"
    lines = [f"Forfait de l'opérateur : {verdict}"]
    if assessment.billable and assessment.forfait is not None:
        amount = assessment.forfait.amount_cents
        lines[0] += (
            f" — {assessment.forfait.code} {assessment.forfait.label}, {amount // 100},{amount % 100:02d} €"
        )
    lines += [f"{'[oui]' if c.ok else '[non]'} {c.name} : {c.why}" for c in assessment.checks]
    return lines


async def report_pdf(content: PrintedMonth) -> bytes:
    return await asyncio.to_thread(render, content)


def render(content: PrintedMonth) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(f"Rapport de télésurveillance — {content.subtitle}")
    canvas.setAuthor("Telesante")
    out = _Writer(canvas)
    out.line(content.title, size=14, bold=True)
    out.line(content.subtitle, size=12, bold=True)
    out.gap(4)
    for line in content.patient + content.program:
        out.line(line)
    out.section("Synthèse de la période", content.summary)
    for title, figure in content.figures:
        out.figure(title, figure)
    out.section("Alertes et leur traitement", [])
    for lines in content.alerts or [["Aucune alerte ce mois-ci."]]:
        out.line(lines[0], bold=True, indent=3 * mm)
        for line in lines[1:]:
            out.line(line, indent=6 * mm)
        out.gap(3)
    out.section("Règles d'alerte en vigueur", content.rules)
    out.section("Facturation", content.forfait)
    out.gap(8)
    out.line(content.produced, size=8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


class _Writer(PageWriter):
    """The shared page writer, with the report's sections and figures."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__(canvas, margin=18 * mm, bottom=BOTTOM)

    def line(self, text: str, *, size: float = 9.5, bold: bool = False, indent: float = 0) -> None:
        super().line(text, size=size, bold=bold, indent=indent)

    def section(self, title: str, lines: list[str]) -> None:
        self.gap(8)
        self.room(40)
        self.line(title, size=11.5, bold=True)
        for line in lines:
            self.line(line, indent=3 * mm)

    def figure(self, title: str, figure: charts.Figure) -> None:
        self.gap(6)
        self.room(figure.height + 16)
        self.line(title, size=10, bold=True)
        self.y -= figure.height
        renderPDF.draw(drawing(figure), self.canvas, self.left, self.y)


def drawing(figure: charts.Figure) -> Drawing:
    """The figure's shapes on a reportlab Drawing (y grows upwards there)."""
    height = figure.height
    out = Drawing(figure.width, height)
    for shape in figure.shapes:
        if isinstance(shape, charts.Line):
            line = Line(shape.x1, height - shape.y1, shape.x2, height - shape.y2)
            line.strokeColor, line.strokeWidth = HexColor(shape.color), shape.width * 0.7
            if shape.dash:
                line.strokeDashArray = [float(n) for n in shape.dash.split()]
            out.add(line)
        elif isinstance(shape, charts.Path):
            flat = [c for x, y in shape.points for c in (x, height - y)]
            out.add(PolyLine(flat, strokeColor=HexColor(shape.color), strokeWidth=shape.width * 0.7))
        elif isinstance(shape, charts.Area):
            flat = [c for x, y in shape.points for c in (x, height - y)]
            out.add(
                Polygon(flat, fillColor=HexColor(shape.fill), fillOpacity=shape.opacity, strokeColor=None)
            )
        elif isinstance(shape, charts.Box):
            out.add(
                Rect(
                    shape.x,
                    height - shape.y - shape.h,
                    shape.w,
                    shape.h,
                    fillColor=HexColor(shape.fill),
                    strokeColor=None,
                )
            )
        elif isinstance(shape, charts.Dot):
            out.add(
                Circle(
                    shape.x, height - shape.y, shape.r * 0.7, fillColor=HexColor(shape.fill), strokeColor=None
                )
            )
        else:
            out.add(
                String(
                    shape.x,
                    height - shape.y,
                    pdf_text(shape.text),
                    fontName="Helvetica",
                    fontSize=shape.size * 0.8,
                    textAnchor=shape.anchor,
                    fillColor=HexColor(shape.color),
                )
            )
    return out
