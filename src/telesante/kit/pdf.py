"""Text on A4 pages with reportlab: lines that wrap and turn the page, in the standard fonts."""

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

# The standard PDF fonts write Windows-1252 only: spell the rest out rather than print boxes.
PDF_TEXT = {"≥": ">=", "≤": "<=", "−": "-", "→": "->", "\u202f": " "}


def pdf_text(text: str) -> str:
    for char, replacement in PDF_TEXT.items():
        text = text.replace(char, replacement)
    return text.encode("cp1252", "replace").decode("cp1252")


class PageWriter:
    """Writes downwards from the top margin; a line that does not fit starts a new page."""

    def __init__(self, canvas: Canvas, *, margin: float = 20 * mm, bottom: float = 25 * mm) -> None:
        self.canvas = canvas
        self.left, self.width = margin, A4[0] - 2 * margin
        self.top, self.bottom = A4[1] - margin, bottom
        self.y = self.top

    def room(self, height: float) -> None:
        if self.y - height < self.bottom:
            self.canvas.showPage()
            self.y = self.top

    def line(self, text: str, *, size: float = 10, bold: bool = False, indent: float = 0) -> None:
        font = "Helvetica-Bold" if bold else "Helvetica"
        for part in simpleSplit(pdf_text(text), font, size, self.width - indent) or [""]:
            self.room(size * 1.4)
            self.canvas.setFont(font, size)
            self.canvas.drawString(self.left + indent, self.y, part)
            self.y -= size * 1.4

    def text(self, text: str, *, indent: float = 0) -> None:
        """Paragraphs, one per line of `text` (an empty text prints a dash)."""
        for paragraph in text.splitlines() or ["—"]:
            self.line(paragraph, indent=indent)

    def gap(self, points: float = 6) -> None:
        self.y -= points
