"""The superbill of a batch as a PDF (fpdf2, as the procedure note): one page per claim with the
billing provider, patient and insurance, diagnoses and the lines with NDC, units and charges."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from bontrack.claims import facts
from bontrack.claims.codes import modifiers_text, ndc_display
from bontrack.claims.models import BillingProfile, Claim, ClaimBatch, Coverage


def _t(value: object) -> str:
    text = str(value)
    for a, b in (("—", "-"), ("–", "-"), ("“", '"'), ("”", '"'), ("’", "'"), ("·", "-")):
        text = text.replace(a, b)
    return text.encode("latin-1", "replace").decode("latin-1")


def _n(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def superbill_pdf(
    *,
    batch: ClaimBatch,
    profile: BillingProfile | None,
    claims: Sequence[Claim],
    coverage: dict[int, Coverage],
) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title(f"Superbill, batch {batch.pk}")
    pdf.set_author("BoNTrack")
    for claim in claims:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 8, _t(f"Superbill - claim {claim.number}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        patient = claim.patient
        cov = coverage.get(claim.patient_id)
        rows: list[str] = []
        if profile is not None:
            rows.append(
                f"Billing provider: {profile.name} - NPI {profile.npi} - tax ID {profile.tax_id} - "
                f"{profile.address}, {profile.city}, {profile.state} {profile.zip_code}"
            )
        rows += [
            f"Clinic: {claim.clinic.name}",
            f"Patient: {patient.last_name}, {patient.first_name} - MRN {patient.mrn} - born "
            f"{patient.date_of_birth:%Y-%m-%d}",
            f"Date of service: {claim.service_date:%Y-%m-%d} - place of service: office (11)",
            "Treated: " + ", ".join(facts.indication_label(i) for i in claim.indications),
            f"Batch {batch.pk} exported {batch.created_at:%Y-%m-%d %H:%M} UTC",
        ]
        if cov is not None:
            rows.append(
                f"Insurance: {cov.payer_name} (payer ID {cov.payer_id}) - member ID "
                f"{cov.member_id} - {cov.get_filing_indicator_display()}"
            )
        for row in rows:
            pdf.multi_cell(0, 5, _t(row), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, "Diagnoses (ICD-10-CM)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for n, code in enumerate(claim.diagnoses, start=1):
            pdf.cell(0, 5, _t(f"{n}. {code}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, "Services", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        dx = list(claim.diagnoses)
        total = Decimal(0)
        with pdf.table(col_widths=(14, 16, 50, 14, 14, 30, 18)) as table:
            table.row(["Code", "Modifiers", "Description", "Units", "Dx", "NDC", "Charge"])
            for line in claim.lines.all():
                total += line.charge
                table.row(
                    [
                        line.code,
                        modifiers_text(line.modifiers),
                        _t(facts.line_description(line.code, line.modifiers)),
                        _n(line.units),
                        ",".join(str(dx.index(c) + 1) for c in line.icd10 if c in dx),
                        (
                            f"N4 {ndc_display(line.ndc)} UN{_n(line.ndc_quantity)}"
                            if line.ndc
                            else ""
                        ),
                        f"${line.charge:.2f}",
                    ]
                )
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, _t(f"Total charge: ${total:.2f}"), new_x="LMARGIN", new_y="NEXT")
        totals: dict[str, Any] = claim.totals or {}
        if totals:
            pdf.set_font("Helvetica", "", 9)
            pdf.multi_cell(
                0,
                5,
                _t(
                    f"OnabotulinumtoxinA: {totals.get('units_given')} U given, "
                    f"{totals.get('units_wasted')} U discarded from {totals.get('vials_opened')} "
                    f"single-dose vial(s) of {totals.get('vial_units')} U in all."
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    if not claims:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(0, 8, "This batch has no claims.")
    return bytes(pdf.output())
