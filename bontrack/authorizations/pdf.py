"""Payer packets as PDF: the same stack as the procedure note (fpdf2; charts as PNG through
core.charts.to_png, each followed by its table so the figures are in the text)."""

from __future__ import annotations

import io

from fpdf import FPDF
from PIL import Image

from bontrack.authorizations.packets import Packet
from bontrack.core.charts import to_png
from bontrack.treatments.pdf import CHART_MAX_HEIGHT_MM, _t


def packet_pdf(packet: Packet) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(_t(packet.title))
    pdf.set_author("BoNTrack")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 7, _t(packet.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in packet.header:
        pdf.multi_cell(0, 5, _t(line), new_x="LMARGIN", new_y="NEXT")
    for section in packet.sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, _t(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for line in section.lines:
            pdf.multi_cell(0, 5, _t(line), new_x="LMARGIN", new_y="NEXT")
        if section.table is not None and section.table.rows:
            pdf.ln(1)
            pdf.set_font("Helvetica", "", 8)
            with pdf.table(first_row_as_headings=True, line_height=4) as table:
                table.row([_t(c) for c in section.table.columns])
                for row in section.table.rows:
                    table.row([_t("" if v is None else v) for v in row])
    for chart in packet.charts:
        png = to_png(chart)
        with Image.open(io.BytesIO(png)) as im:
            px_w, px_h = im.size
        w = pdf.epw
        h = w * px_h / px_w
        if h > CHART_MAX_HEIGHT_MM:
            w, h = w * CHART_MAX_HEIGHT_MM / h, CHART_MAX_HEIGHT_MM
        if pdf.get_y() + h + 20 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, _t(chart.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        pdf.multi_cell(0, 4, _t(chart.description), new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(png), w=w, h=h, alt_text=_t(f"{chart.title}. {chart.description}"))
        pdf.ln(1)
        pdf.set_font("Helvetica", "", 7)
        with pdf.table(first_row_as_headings=True, line_height=3.6) as table:
            table.row([_t(c) for c in chart.table.columns])
            for row in chart.table.rows:
                table.row([_t("" if v is None else v) for v in row])
    pdf.ln(3)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        0,
        5,
        _t("Rule sets used: " + (", ".join(packet.rule_sets) or "none")),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
