"""The room's map of incidents and resources, drawn as inline SVG on the server.

No tile server and no third-party script: a SAMU room must keep its map when the Internet link is
down. The frame is the bounding box of the points themselves (about a département), projected
equirectangularly with longitudes shrunk by cos(latitude), so that a kilometre is as long east-west
as north-south at the département's scale. Presentation attributes only: the CSP forbids inline style.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

WIDTH, MAX_HEIGHT, MARGIN = 480.0, 420.0, 28.0
MIN_SPAN = 0.02  # degrees (about 2 km): one point, or a few close ones, do not fill the whole map
KM_PER_DEGREE = 111.32  # of latitude
SCALE_BARS_KM = (0.5, 1, 2, 5, 10, 20, 50, 100, 200)
PRIORITY_COLOURS = {"P0": "#7a0014", "P1": "#d1342f", "P2": "#e07b00", "P3": "#8a6d00", "NR": "#8a8d93"}
AVAILABLE, ENGAGED = "#0b6b2f", "#0b4f9c"


@dataclass(frozen=True)
class Frame:
    """Where the points' box lands in the SVG: (lat, lon) → (x, y), y down, north up."""

    north: float
    west: float
    cos_lat: float
    scale: float  # pixels per degree of latitude
    x0: float
    y0: float
    width: float
    height: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (
            self.x0 + (lon - self.west) * self.cos_lat * self.scale,
            self.y0 + (self.north - lat) * self.scale,
        )

    @property
    def km_per_pixel(self) -> float:
        return KM_PER_DEGREE / self.scale


def frame(
    points: Sequence[tuple[float, float]],
    width: float = WIDTH,
    max_height: float = MAX_HEIGHT,
    margin: float = MARGIN,
) -> Frame:
    """The largest scale that fits the points within width × max_height, keeping their aspect;
    the height follows the points' shape, and the narrower side is centred."""
    lats, lons = [lat for lat, _ in points], [lon for _, lon in points]
    cos_lat = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_y = max(max(lats) - min(lats), MIN_SPAN)
    span_x = max((max(lons) - min(lons)) * cos_lat, MIN_SPAN)
    north = (max(lats) + min(lats)) / 2 + span_y / 2
    west = (max(lons) + min(lons)) / 2 - span_x / cos_lat / 2
    inner_width = width - 2 * margin
    scale = min(inner_width / span_x, (max_height - 2 * margin) / span_y)
    x0 = margin + (inner_width - span_x * scale) / 2
    return Frame(north, west, cos_lat, scale, x0, margin, width, span_y * scale + 2 * margin)


@dataclass(frozen=True)
class Marker:
    lat: float
    lon: float
    label: str
    title: str
    colour: str
    kind: str  # incident, resource
    ident: str
    href: str | None = None
    data: tuple[tuple[str, str], ...] = ()


def incidents(files: Iterable[dict[str, Any]]) -> list[Marker]:
    """The room's open files that have a position (views.summary dicts)."""
    return [
        Marker(
            f["latitude"],
            f["longitude"],
            f"n° {f['number']} {f['priority']}",
            f"Dossier n° {f['number']}, {f['priority']}" + (f" – {f['motive']}" if f["motive"] else ""),
            PRIORITY_COLOURS.get(f["priority"], PRIORITY_COLOURS["NR"]),
            "incident",
            f["id"],
            f"/regulation/dossiers/{f['id']}",
            (("priority", f["priority"]), ("perimeter", f["perimeter"])),
        )
        for f in files
        if f["latitude"] is not None and f["longitude"] is not None
    ]


def resources(rows: Iterable[dict[str, Any]]) -> list[Marker]:
    """The centre's resources that have a position (views.resources dicts)."""
    return [
        Marker(
            r["latitude"],
            r["longitude"],
            r["name"],
            f"{r['name']} – {'disponible' if r['available'] else 'engagé'}",
            AVAILABLE if r["available"] else ENGAGED,
            "resource",
            r["id"],
            data=(("available", "oui" if r["available"] else "non"),),
        )
        for r in rows
        if r["latitude"] is not None and r["longitude"] is not None
    ]


def svg(markers: Sequence[Marker]) -> Markup:
    """The map, or a sentence when nothing has a position yet."""
    if not markers:
        return Markup('<p class="muted" id="reg-map-empty">Aucun incident ni moyen localisé.</p>')
    box = frame([(m.lat, m.lon) for m in markers])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {box.width:g} {box.height:.1f}" '
        'width="100%" role="img" aria-labelledby="reg-map-title" class="reg-map" id="reg-map">',
        '<title id="reg-map-title">Carte des incidents et des moyens</title>',
        f'<rect x="0" y="0" width="{box.width:g}" height="{box.height:.1f}" fill="#eef3f8"/>',
        *_north_and_scale(box),
    ]
    parts += [_marker(box, m) for m in markers if m.kind == "resource"]
    parts += [_marker(box, m) for m in markers if m.kind == "incident"]  # incidents drawn on top
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text went through escape()


def _marker(box: Frame, marker: Marker) -> str:
    x, y = box.xy(marker.lat, marker.lon)
    data = "".join(f' data-{key}="{escape(value)}"' for key, value in marker.data)
    title = f"<title>{escape(marker.title)}</title>"
    if marker.kind == "incident":
        shape = (
            f'<circle class="reg-incident" data-file="{escape(marker.ident)}"{data} cx="{x:.1f}" '
            f'cy="{y:.1f}" r="9" fill="{marker.colour}" stroke="#fff" stroke-width="2">{title}</circle>'
        )
    else:
        shape = (
            f'<rect class="reg-resource" data-resource="{escape(marker.ident)}"{data} x="{x - 7:.1f}" '
            f'y="{y - 7:.1f}" width="14" height="14" fill="{marker.colour}" stroke="#fff" '
            f'stroke-width="1.5">{title}</rect>'
        )
    # A label near the right edge goes on the marker's left, so that it stays inside the map.
    left = x > box.width * 0.7
    label = (
        f'<text x="{x - 11 if left else x + 11:.1f}" y="{y + 4:.1f}" font-size="13" '
        f'text-anchor="{"end" if left else "start"}" fill="#1b1b1f">{escape(marker.label)}</text>'
    )
    if marker.href:
        return f'<a href="{escape(marker.href)}">{shape}{label}</a>'
    return shape + label


def _north_and_scale(box: Frame) -> list[str]:
    """A north arrow and a scale bar: the map has no tiles to tell either."""
    fitting = [km for km in SCALE_BARS_KM if km / box.km_per_pixel <= box.width / 4]
    km = fitting[-1] if fitting else SCALE_BARS_KM[0]
    length, y = km / box.km_per_pixel, box.height - 12
    distance = f"{km:g}".replace(".", ",")
    return [
        f'<text x="{box.width - 20:g}" y="20" font-size="14" text-anchor="middle" fill="#55575d">N</text>',
        f'<line x1="{box.width - 20:g}" y1="40" x2="{box.width - 20:g}" y2="24" stroke="#55575d" '
        'stroke-width="2"/>',
        f'<line x1="12" y1="{y:.1f}" x2="{12 + length:.1f}" y2="{y:.1f}" stroke="#55575d" stroke-width="3"/>',
        f'<text x="12" y="{y - 6:.1f}" font-size="12" fill="#55575d">{distance} km</text>',
    ]
