"""A chart figure as inline SVG for the pages. Presentation attributes only (stroke, fill,
font-size): the strict CSP forbids inline style and script, not SVG markup. Every text is escaped."""

from collections.abc import Sequence

from markupsafe import Markup, escape

from telesante.monitoring import charts


def svg(figure: charts.Figure, key: str) -> Markup:
    """Inline SVG with presentation attributes only (no style, no script: the CSP allows it)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {figure.width:g} {figure.height:g}" '
        f'width="100%" role="img" aria-labelledby="{key}-titre {key}-desc" class="chart" id="{key}">',
        f'<title id="{key}-titre">{escape(figure.title)}</title>',
        f'<desc id="{key}-desc">{escape(figure.description)}</desc>',
    ]
    parts += [_svg_shape(shape) for shape in figure.shapes]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def _svg_shape(shape: charts.Shape) -> str:
    if isinstance(shape, charts.Line):
        dash = f' stroke-dasharray="{shape.dash}"' if shape.dash else ""
        return (
            f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" y2="{shape.y2:.1f}" '
            f'stroke="{shape.color}" stroke-width="{shape.width:g}"{dash}/>'
        )
    if isinstance(shape, charts.Path):
        return (
            f'<polyline points="{_points(shape.points)}" fill="none" stroke="{shape.color}" '
            f'stroke-width="{shape.width:g}" stroke-linejoin="round"/>'
        )
    if isinstance(shape, charts.Area):
        opacity = f'fill-opacity="{shape.opacity:g}"'
        return f'<polygon points="{_points(shape.points)}" fill="{shape.fill}" {opacity}/>'
    if isinstance(shape, charts.Box):
        size = f'width="{shape.w:.1f}" height="{shape.h:.1f}"'
        return f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" {size} fill="{shape.fill}"/>'
    if isinstance(shape, charts.Dot):
        return f'<circle cx="{shape.x:.1f}" cy="{shape.y:.1f}" r="{shape.r:g}" fill="{shape.fill}"/>'
    return (
        f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size:g}" text-anchor="{shape.anchor}" '
        f'fill="{shape.color}">{escape(shape.text)}</text>'
    )


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
