"""Printable A4 QR sheets, one page per window (or per person for invitation slips)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from pingyi.qr import qr_png

FONT = "STSong-Light"  # a CID font every PDF reader supplies: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


@dataclass(frozen=True)
class WindowSheet:
    hall: str
    window_number: str
    window_name: str
    url: str
    instruction: str = "请扫码评价本次服务"
    campaign_name: str = ""


def render_sheets_pdf(sheets: list[WindowSheet]) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    for sheet in sheets:
        pdf.setFont(FONT, 30)
        pdf.drawCentredString(width / 2, height - 3 * cm, sheet.hall)
        pdf.setFont(FONT, 24)
        pdf.drawCentredString(
            width / 2, height - 4.6 * cm, f"{sheet.window_number}  {sheet.window_name}"
        )
        size = 11 * cm
        pdf.drawImage(
            ImageReader(io.BytesIO(qr_png(sheet.url))),
            (width - size) / 2,
            height - 5.8 * cm - size,
            size,
            size,
        )
        pdf.setFont(FONT, 22)
        pdf.drawCentredString(width / 2, height - 7.2 * cm - size, sheet.instruction)
        if sheet.campaign_name:
            pdf.setFont(FONT, 10)
            pdf.drawCentredString(width / 2, 2 * cm, sheet.campaign_name)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
