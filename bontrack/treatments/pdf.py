"""The procedure note as a PDF (fpdf2, pure Python): header, map (SVG), sites, vials, findings."""

from __future__ import annotations

import io
import zoneinfo
from typing import Any

from django.utils import timezone
from fpdf import FPDF
from PIL import Image

from bontrack.core.charts import Chart, to_png
from bontrack.core.templatetags.bontrack_tags import SEVERITY_LABELS
from bontrack.treatments import facts, maps

CHART_MAX_HEIGHT_MM = 105  # a chart and its title fit in half a Letter page

MAP_MAX_HEIGHT_MM = 90  # a row of views


def map_svgs(bodymap: dict[str, Any]) -> list[tuple[str, str, float]]:
    """Each indication's map as one SVG (its views side by side, inline colours): the drawings
    of the session screen (``treatments.maps``), without script; with its height / width."""
    return [(label, str(text), ratio) for label, text, ratio in maps.svg(bodymap)]


def _u(value: Any) -> str:
    """A quantity without trailing zeros: 155, 2.5."""
    return f"{float(value):g}"


def _t(value: object) -> str:
    """Core PDF fonts are Latin-1: replace what they cannot draw."""
    text = str(value)
    for a, b in (
        ("—", "-"),
        ("–", "-"),
        ("“", '"'),
        ("”", '"'),
        ("’", "'"),
        ("·", "-"),
        ("…", "..."),
    ):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def procedure_note_pdf(ctx: dict[str, Any]) -> bytes:
    session, patient = ctx["session"], ctx["patient"]
    pdf = FPDF(format="Letter")
    pdf.set_title(f"Procedure note {session.pk}")
    pdf.set_author("BoNTrack")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(
        0,
        8,
        _t("Procedure note - chemodenervation, " + ", ".join(ctx["indication_labels"]).lower()),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    zone = zoneinfo.ZoneInfo(session.clinic.time_zone)  # the clinic's local time, whoever prints it
    local = timezone.localtime(session.performed_at, zone)
    lines = [
        f"Patient: {patient.last_name}, {patient.first_name} - MRN {patient.mrn} - born {patient.date_of_birth:%Y-%m-%d}",
        f"Clinic: {session.clinic.name}",
        f"Date and time: {local:%Y-%m-%d %H:%M %Z}",
        f"Status: {session.get_status_display()}"
        + (
            f" - signed by {session.signed_by.get_full_name() or session.signed_by.username} "
            f"{timezone.localtime(session.signed_at, zone):%Y-%m-%d %H:%M}"
            if session.signed_by_id
            else ""
        ),
        f"Product: {session.product}",
        *_off_label_lines(session),
        f"Consent {'obtained' if session.consent_obtained else 'not recorded'}; Medication Guide "
        f"{'offered' if session.medication_guide_offered else 'not offered'}",
        "Indications: " + ", ".join(ctx["indication_labels"]),
        f"Total: {_u(ctx['units_done'])} U in {ctx['sites_done']} sites",
    ]
    if len(ctx["indication_totals"]) > 1:
        lines += [
            f"{t['label']}: {_u(t['units'])} U in {t['sites']} sites"
            for t in ctx["indication_totals"]
        ]
    if session.amends_id:
        lines.append(f"Amends session {session.amends_id}: {session.amendment_reason}")
    if ctx.get("next_due"):
        lines.append(f"Next session due: {ctx['next_due']:%Y-%m-%d}")
    for line in lines:
        pdf.multi_cell(0, 5, _t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    bodies = ctx["bodymap"]["maps"]
    for (label, text, ratio), body in zip(map_svgs(ctx["bodymap"]), bodies, strict=True):
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, _t(f"Injection map: {label}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        # A map of several rows of views (facial pain: nine) may be twice as tall as one row.
        rows = min(2, -(-len(body["views"]) // maps.SVG_ROW))
        pdf.image(io.BytesIO(text.encode()), w=min(pdf.epw, MAP_MAX_HEIGHT_MM * rows / ratio))
        pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "Sites", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(col_widths=(60, 30, 30, 30)) as table:
        table.row(["Muscle", "Side", "Sites done", "Units"])
        for g in ctx["groups"]:
            table.row(
                [
                    _t(g["label"]),
                    g["side"],
                    f"{g['done_sites']} / {g['sites']}",
                    f"{_u(g['units'])} U",
                ]
            )
    pdf.ln(2)
    billing_table(pdf, ctx["billing"])
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "Vials and dilution", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    with pdf.table() as table:
        table.row(
            [
                "Lot",
                "NDC",
                "Expiry",
                "Size",
                "Diluent",
                "Reconstituted",
                "U/0.1 mL",
                "Used",
                "Wasted",
            ]
        )
        for row in ctx["vials"]:
            v = row["vial"]
            conc = row["conc"] or {}
            table.row(
                [
                    _t(v.lot.lot_number),
                    _t(v.lot.ndc),
                    f"{v.lot.expiry:%Y-%m-%d}",
                    f"{v.lot.size_units} U",
                    f"{_u(v.diluent_ml)} mL",
                    f"{timezone.localtime(v.reconstituted_at, zone):%Y-%m-%d %H:%M}",
                    str(conc.get("units_per_0_1_ml", "")),
                    f"{_u(v.units_used)} U",
                    f"{_u(v.units_wasted)} U",
                ]
            )
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "Dose findings and decisions", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if not ctx["findings"]:
        pdf.cell(0, 5, "No findings.", new_x="LMARGIN", new_y="NEXT")
    for f in ctx["findings"]:
        # The message first, as on screen; the rule and its source as a reference (a printed
        # note has no "Why?" disclosure).
        word = SEVERITY_LABELS.get(str(f["severity"]), str(f["severity"]))
        text = f"{word}: {f['message']} (rule {f['rule_id']}, source {f['source'] or '-'}"
        text += ")" if f["confirmed"] else "; advisory: unconfirmed)"
        d = f.get("decision")
        if d is not None:
            who = d.decided_by.get_full_name() or d.decided_by.username
            verb = "Override" if d.kind == "override" else "Acknowledged"
            text += f" - {verb} by {who}" + (f': "{d.reason}"' if d.reason else "")
        pdf.multi_cell(0, 5, _t(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(0, 5, _t(f"Rules: {ctx['rule_set'] or '-'}"), new_x="LMARGIN", new_y="NEXT")
    if session.note:
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, 5, _t(f"Note: {session.note}"), new_x="LMARGIN", new_y="NEXT")
    outcome = ctx.get("outcome")
    if outcome and outcome["charts"]:
        outcome_pages(pdf, outcome["charts"], outcome["as_of"])
    return bytes(pdf.output())


def billing_table(pdf: FPDF, rows: list[dict[str, Any]]) -> None:
    """What a claim needs: per indication and limb or side, the muscles, sites, units, guidance."""
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "For billing: limbs, sides, muscles and guidance", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if not rows:
        pdf.cell(0, 5, "No site was given.", new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(col_widths=(28, 22, 62, 10, 14, 54), text_align="LEFT") as table:
        table.row(["Indication", "Limb or side", "Muscles", "Sites", "Units", "Guidance"])
        for b in rows:
            count = b["muscle_count"]
            muscles = f"{count} muscle{'s' if count != 1 else ''}" + (
                " in this limb" if b["limb"] else ""
            )
            guidance = ", ".join(b["guidance"]) + (
                " (not recorded at some sites)" if b["guidance_missing"] else ""
            )
            table.row(
                [
                    _t(b["indication"]),
                    _t(b["where"]),
                    _t(f"{muscles}: {', '.join(b['muscles'])}"),
                    str(b["sites"]),
                    f"{_u(b['units'])} U",
                    _t(guidance),
                ]
            )


def outcome_pages(pdf: FPDF, charts: list[Chart], as_of: Any) -> None:
    """The patient's outcome charts (the diary page's charts, rendered by vl-convert as PNG) with
    each chart's table as text: the figures are in the PDF's text, not only in the images."""
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _t(f"Outcome charts (diary and questionnaires up to {as_of:%Y-%m-%d})"))
    pdf.ln(8)
    for chart in charts:
        png = to_png(chart)
        with Image.open(io.BytesIO(png)) as im:
            px_w, px_h = im.size
        w = pdf.epw
        h = w * px_h / px_w
        if h > CHART_MAX_HEIGHT_MM:
            w, h = w * CHART_MAX_HEIGHT_MM / h, CHART_MAX_HEIGHT_MM
        if pdf.get_y() + h + 16 > pdf.page_break_trigger:
            pdf.add_page()
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
        pdf.ln(4)


def _off_label_lines(session: Any) -> list[str]:
    """The note of a clinic-defined, off-label protocol says so (and what consent covered)."""
    codes = session.indications or [session.indication]
    if not any(facts.is_off_label(c) for c in codes):
        return []
    cp = session.plan.clinic_protocol if session.plan_id else None
    what = f": clinic-defined protocol {cp.name} for {cp.condition}" if cp else ""
    return [
        f"OFF-LABEL treatment{what}. Only the product-wide limits apply; consent was for "
        "off-label treatment."
    ]
