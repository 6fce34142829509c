"""Issue 14 item 7: the staff UI speaks the clinician's language.

The demo practice (every stage of the migraine pathway, spasticity and dystonia sessions, recall,
calendar, diaries, reviews) is crawled as a physician, a nurse and a clinic administrator: every staff page and every
lazily loaded panel they can reach by a link or an ``hx-get``. The visible text of each page,
outside the "Why?" disclosures (``<details>``), must hold no machine code: no rule ID
(``BTX-CUM-ADULT-400``), no UPPERCASE_CODE, no snake_case value of a ``clinic_rules`` enum
(``chronic_migraine``, ``not_yet_due``) and no bare severity code (``warn``, ``block``).
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

from django.test import Client
from django.utils import timezone

from bontrack.accounts.models import User
from bontrack.authorizations.models import Authorization
from bontrack.factories import charted_session, login
from bontrack.ops.seed import seed_demo
from bontrack.patients.models import Patient
from bontrack.patients.services import add_flag
from bontrack.scheduling.models import Appointment
from bontrack.treatments.actions.findings import current_findings
from bontrack.treatments.models import TreatmentSession
from clinic_rules import model
from clinic_rules.data import all_rules

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
SKIP_TEXT_IN = {"script", "style", "template", "details", "title"}


class VisibleText(HTMLParser):
    """Text a reader sees, minus ``<details>`` (the "Why?" disclosure) and scripts; links too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.chunks: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("href", "hx-get"):
            if a.get(key):
                self.links.append(str(a[key]))
        for key in ("aria-label", "title", "placeholder", "alt"):
            if a.get(key) and not self._hidden():
                self.chunks.append(str(a[key]))
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.chunks.append(str(a["value"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def _hidden(self) -> bool:
        return any(t in SKIP_TEXT_IN for t in self.stack)

    def handle_data(self, data: str) -> None:
        if not self._hidden() and data.strip():
            self.chunks.append(data.strip())


def _enum_codes() -> set[str]:
    """snake_case values of every clinic_rules enum (``chronic_migraine``, ``too_early``)."""
    codes = {"not_yet_due", "not_yet", "not_eligible", "no_contraindication"}
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, enum.Enum):
            codes |= {str(m.value) for m in list(value) if "_" in str(m.value)}
    return codes


ENUM_CODES = _enum_codes()
RULE_IDS = sorted((re.escape(r.id) for r in all_rules()), key=len, reverse=True)
RAW = [
    ("rule ID", re.compile(r"\b(?:" + "|".join(RULE_IDS) + r")\b")),
    ("UPPERCASE_CODE", re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")),
    ("run-together code", re.compile(r"\b(?:NOCONTRAINDICATION|KNOB|KNOBS|NOTYETDUE)\b", re.I)),
    ("enum value", re.compile(r"(?<![\w/.-])(?:" + "|".join(sorted(ENUM_CODES)) + r")(?![\w/-])")),
    ("severity shout", re.compile(r"\b(?:BLOCK|WARN|INFO)\b")),
]


SEVERITY_CODES = {"warn", "block", "info"}


def raw_codes(text: str) -> list[str]:
    """Each raw code found, with the words around it; a severity code shown on its own (a badge
    reading ``warn``) is one too, the English word in a sentence ("a block of hours") is not."""
    chunks = [c.strip() for c in text.split(" | ")]
    return [f"severity code: {c!r}" for c in chunks if c in SEVERITY_CODES] + [
        f"{name}: {m.group(0)!r} in {text[max(0, m.start() - 40) : m.end() + 40]!r}"
        for name, rx in RAW
        for m in rx.finditer(text)
    ]


def test_the_detector_finds_the_codes_the_issue_names():
    sample = (
        "NOCONTRAINDICATION not_yet_due KNOB chronic_migraine BTX-CUM-ADULT-400 "
        "POLICY_DIARY x | warn | block"
    )
    found = " ".join(code.split(" in ")[0] for code in raw_codes(sample))
    for code in (
        "NOCONTRAINDICATION",
        "not_yet_due",
        "KNOB",
        "chronic_migraine",
        "BTX-CUM-ADULT-400",
    ):
        assert code in found
    assert "'warn'" in found and "'block'" in found and "POLICY_DIARY" in found
    assert raw_codes("Total for the last 12 weeks would be 495 U; the limit is 400 U.") == []
    assert raw_codes("Remove the Monday 09:00 block of Grace Lee | Add a block") == []
    assert raw_codes("HIT-6 and MIDAS, ICD-10-CM G43.709, ICHD-3 criteria, BOTOX 200 U vial") == []


def test_text_inside_the_why_disclosure_is_not_visible_text():
    parser = VisibleText()
    parser.feed(
        "<p>Limit reached.</p><details><summary>Why?</summary>BTX-CUM-ADULT-400</details><p>ok</p>"
    )
    assert parser.chunks == ["Limit reached.", "ok"]


# Not crawled: sign-out and MFA, the API (machine codes by design), the patient portal and public
# booking (other pages), downloads, and the audit access log, which shows the recorded changes
# verbatim (a faithful record of the stored values, codes included).
SKIP_PATHS = re.compile(
    r"^/(?:accounts/(?:logout|sign-out|2fa|step-up)|api/|static/|portal/|book/)|/access-log/"
    r"|\.(?:pdf|csv|ics|json|png|svg)(?:\?|$)|/(?:export|feed|pdf|download)(?:/|\?|$)"
)
PER_PATTERN = 6  # pages found by links, per URL shape; the start list is always visited
MAX_PAGES = 1200


def _pattern(url: str) -> str:
    return re.sub(r"\d+", "N", urlsplit(url).path)


def crawl(client: Client, start: list[str]) -> tuple[dict[str, list[str]], int]:
    seen: set[str] = set()
    per_pattern: Counter[str] = Counter()
    queue = list(start)
    listed = set(start)
    problems: dict[str, list[str]] = {}
    pages = 0
    while queue and pages < MAX_PAGES:
        url = urldefrag(queue.pop(0))[0]
        if not url.startswith("/") or url in seen or SKIP_PATHS.search(url):
            continue
        seen.add(url)
        pattern = _pattern(url)
        if url not in listed and per_pattern[pattern] >= PER_PATTERN:
            continue
        per_pattern[pattern] += 1
        response = client.get(url, HTTP_HX_REQUEST="true" if "/panel" in url else None)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        parser = VisibleText()
        parser.feed(response.content.decode())
        found = raw_codes(" | ".join(parser.chunks))
        if found:
            problems[url] = sorted(set(found))
        queue += parser.links
    return problems, pages


START = [
    "/",
    "/patients/",
    "/schedule/",
    "/schedule/recall/",
    "/schedule/waitlist/",
    "/schedule/types/",
    "/schedule/setup/",
    "/inventory/",
    "/diaries/policy/",
    "/authorizations/",
    "/authorizations/?show=all",
    "/claims/",
    "/claims/?state=attention",
    "/claims/?state=exported",
    "/claims/?state=paid",
    "/claims/?state=denied",
    "/claims/batches/",
    "/claims/reports/",
]
PER_PATIENT = [
    "/patients/{}/",
    "/diaries/patients/{}/",
    "/diaries/patients/{}/panel/",
    "/treatments/patients/{}/panel/",
    "/treatments/patients/{}/review/",
    "/treatments/patients/{}/plans/new/",
    "/treatments/patients/{}/sessions/older/",
    "/schedule/patients/{}/panel/",
    "/patients/{}/authorizations/panel/",
    "/patients/{}/authorizations/new/",
]


def test_no_staff_page_shows_a_raw_code_to_a_physician_a_nurse_or_an_administrator(db):
    seed_demo(today=timezone.localdate(), patients=24, seed=2026)
    # A draft with a blocking finding (a contraindication recorded after charting began).
    doctor = User.objects.get(username="dr.lee")
    flagged = Patient.objects.filter(clinic__slug="northside").order_by("pk").last()
    blocked = charted_session(doctor, flagged)
    add_flag(
        actor=doctor,
        patient=flagged,
        flag="botulinum_hypersensitivity",
        noted_on=timezone.localdate(),
    )
    assert any(f["severity"] == "block" for f in current_findings(blocked)["findings"])
    charts = [
        u.format(pk) for pk in Patient.objects.values_list("pk", flat=True) for u in PER_PATIENT
    ]
    visits = [
        f"/schedule/appointments/{pk}/{page}/"
        for pk in Appointment.objects.values_list("pk", flat=True)
        for page in ("check-in", "next")
    ]
    sessions = [
        f"/treatments/sessions/{pk}/"
        for pk in TreatmentSession.objects.values_list("pk", flat=True)
    ]
    sessions += [
        f"/authorizations/{pk}/{page}/"
        for pk in Authorization.objects.values_list("pk", flat=True)[:12]
        for page in ("edit", "packet/initial", "packet/renewal")
    ]
    for username in ("dr.lee", "nurse.kim", "admin.patel"):
        client = login(Client(), User.objects.get(username=username))
        problems, pages = crawl(client, [*START, *charts, *sessions, *visits])
        assert pages > 20, username
        assert not problems, (username, problems)
