"""An X12 5010 837P (005010X222A1) interchange for a batch of claims, and its validation with
pyx12 (the transaction's implementation guide map): one billing provider, one subscriber loop per
claim (the patient, or the policy holder with the patient in a dependent loop), one service line
per claim line with its NDC (LIN/CTP)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bontrack.claims.codes import icd_plain
from bontrack.claims.models import BillingProfile, Claim, Coverage
from bontrack.patients.models import Patient

VERSION = "005010X222A1"
_UNSAFE = re.compile(r"[^A-Z0-9 .,&'/-]")
SEX = {"female": "F", "male": "M"}
# X12 individual relationship code of the patient to the subscriber (PAT01), from the
# registration's "policy holder is the patient's ...": a parent's plan makes the patient a child.
RELATIONSHIP = {"spouse": "01", "parent": "19", "other": "G8"}


def clean(value: str, size: int | None = None) -> str:
    """An element value: upper case, no separator or control characters, trimmed."""
    text = _UNSAFE.sub(" ", (value or "").upper())
    text = re.sub(r"\s+", " ", text).strip()
    return text[:size] if size else text


def amount(value: Decimal) -> str:
    """X12 decimal: no trailing zeros, no exponent."""
    text = format(Decimal(value).quantize(Decimal("0.01")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Interchange:
    text: str
    segments: int


def _seg(*elements: str) -> str:
    parts = list(elements)
    while parts and parts[-1] == "":
        parts.pop()
    return "*".join(parts) + "~"


def _address_and_demographics(cov: Coverage, patient: Patient) -> list[str]:
    return [
        _seg("N3", clean(cov.address, 55), clean(cov.address2, 55)),
        _seg("N4", clean(cov.city, 30), cov.state.upper(), cov.zip_code),
        _seg("DMG", "D8", f"{patient.date_of_birth:%Y%m%d}", SEX.get(patient.sex, "U")),
    ]


def build_837p(
    *,
    profile: BillingProfile,
    claims: Sequence[Claim],
    coverage: dict[int, Coverage],
    control: int,
    now: datetime,
) -> Interchange:
    ctrl = f"{control:09d}"
    gs_ctrl = str(control)
    usage = profile.usage if profile.usage in ("T", "P") else "T"
    header = [
        "ISA*00*"
        + " " * 10
        + "*00*"
        + " " * 10
        + "*ZZ*"
        + clean(profile.submitter_id, 15).ljust(15)
        + "*ZZ*"
        + clean(profile.receiver_id, 15).ljust(15)
        + f"*{now:%y%m%d}*{now:%H%M}*^*00501*{ctrl}*0*{usage}*:~",
        _seg(
            "GS",
            "HC",
            clean(profile.submitter_id, 15),
            clean(profile.receiver_id, 15),
            f"{now:%Y%m%d}",
            f"{now:%H%M}",
            gs_ctrl,
            "X",
            VERSION,
        ),
    ]
    body = [
        _seg("ST", "837", "0001", VERSION),
        _seg("BHT", "0019", "00", f"B{ctrl}", f"{now:%Y%m%d}", f"{now:%H%M}", "CH"),
        _seg(
            "NM1",
            "41",
            "2",
            clean(profile.name, 60),
            "",
            "",
            "",
            "",
            "46",
            clean(profile.submitter_id, 15),
        ),
        _seg("PER", "IC", clean(profile.contact, 60), "TE", re.sub(r"\D", "", profile.phone)[:10]),
        _seg(
            "NM1",
            "40",
            "2",
            clean(profile.receiver_name, 60),
            "",
            "",
            "",
            "",
            "46",
            clean(profile.receiver_id, 15),
        ),
        _seg("HL", "1", "", "20", "1"),
        _seg("NM1", "85", "2", clean(profile.name, 60), "", "", "", "", "XX", profile.npi),
        _seg("N3", clean(profile.address, 55)),
        _seg("N4", clean(profile.city, 30), profile.state.upper(), profile.zip_code),
        _seg("REF", "EI", profile.tax_id),
    ]
    hl = 1
    for claim in claims:
        hl += 1
        subscriber_hl = hl
        cov = coverage[claim.patient_id]
        patient = claim.patient
        lines = list(claim.lines.all())
        total = sum((x.charge for x in lines), Decimal(0))
        dependent = cov.dependent
        # 2000B: the subscriber. SBR02 is 18 (self) when the patient holds the policy and blank
        # when a 2000C patient loop follows; HL04 says whether it does.
        body += [
            _seg("HL", str(subscriber_hl), "1", "22", "1" if dependent else "0"),
            _seg(
                "SBR",
                "P",
                "" if dependent else "18",
                clean(cov.group_number, 50),
                "",
                "",
                "",
                "",
                "",
                cov.filing_indicator,
            ),
        ]
        member = clean(cov.member_id, 80).replace(" ", "")
        if dependent:
            # 2010BA names the policy holder; their address and DMG are sent only when the
            # patient is the subscriber (005010X222A1), so they are left out here.
            body.append(
                _seg(
                    "NM1",
                    "IL",
                    "1",
                    clean(cov.subscriber_last_name, 60),
                    clean(cov.subscriber_first_name, 35),
                    "",
                    "",
                    "",
                    "MI",
                    member,
                )
            )
        else:
            body += [
                _seg(
                    "NM1",
                    "IL",
                    "1",
                    clean(patient.last_name, 60),
                    clean(patient.first_name, 35),
                    "",
                    "",
                    "",
                    "MI",
                    member,
                ),
                *_address_and_demographics(cov, patient),
            ]
        body.append(
            _seg(
                "NM1",
                "PR",
                "2",
                clean(cov.payer_name, 60),
                "",
                "",
                "",
                "",
                "PI",
                clean(cov.payer_id, 80).replace(" ", ""),
            )
        )
        if dependent:
            # 2000C / 2010CA: the patient, the subscriber's dependent (PAT01: 01 spouse, 19
            # child, G8 other relationship).
            hl += 1
            body += [
                _seg("HL", str(hl), str(subscriber_hl), "23", "0"),
                _seg("PAT", RELATIONSHIP[cov.subscriber_relationship]),
                _seg("NM1", "QC", "1", clean(patient.last_name, 60), clean(patient.first_name, 35)),
                *_address_and_demographics(cov, patient),
            ]
        body += [
            _seg("CLM", claim.number, amount(total), "", "", "11:B:1", "Y", "A", "Y", "Y"),
            _seg(
                "HI",
                *[
                    f"{'ABK' if n == 0 else 'ABF'}:{icd_plain(code)}"
                    for n, code in enumerate(claim.diagnoses[:12])
                ],
            ),
        ]
        dx = list(claim.diagnoses)
        for n, line in enumerate(lines, start=1):
            pointers = [str(dx.index(c) + 1) for c in line.icd10 if c in dx][:4] or ["1"]
            body += [
                _seg("LX", str(n)),
                _seg(
                    "SV1",
                    ":".join(["HC", line.code, *line.modifiers[:4]]),
                    amount(line.charge),
                    "UN",
                    amount(line.units),
                    "",
                    "",
                    ":".join(pointers),
                ),
                _seg("DTP", "472", "D8", f"{claim.service_date:%Y%m%d}"),
            ]
            if line.ndc:
                body += [
                    _seg("LIN", "", line.ndc_qualifier or "N4", line.ndc),
                    _seg(
                        "CTP",
                        "",
                        "",
                        "",
                        amount(line.ndc_quantity or line.units),
                        line.ndc_unit or "UN",
                    ),
                ]
    body.append(_seg("SE", str(len(body) + 1), "0001"))
    trailer = [_seg("GE", "1", gs_ctrl), _seg("IEA", "1", ctrl)]
    segments = header + body + trailer
    return Interchange(text="\n".join(segments) + "\n", segments=len(segments))


def validate(text: str) -> list[str]:
    """pyx12's findings for an interchange (empty: valid against the 837P implementation guide)."""
    import logging

    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    param = pyx12.params.params()
    fd_997 = io.StringIO()
    fd_json = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(param, io.StringIO(text), fd_997, None, fd_json=fd_json)
    errors = _errors(fd_json.getvalue())
    if not ok and not errors:
        errors = ["pyx12 rejected the interchange."]
    return errors


def _errors(raw: str) -> list[str]:
    """Every error of pyx12's JSON report (nested interchange / group / transaction / segment /
    element), with the segment and line it is on."""
    raw = raw.strip()
    if not raw:
        return []
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return [raw[:300]]
    out: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            here = where
            seg = node.get("seg_id") or node.get("id")
            if seg and node.get("cur_line"):
                here = f"{seg} line {node['cur_line']}"
            if "err_str" in node:
                out.append(f"{here}: {node.get('err_cde', '')} {node['err_str']}".strip())
            for value in node.values():
                walk(value, here)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    walk(data, "interchange")
    return out
