"""Screenshots of every role's pages in headless Chromium, for looking at them.

Serve the demo first (it needs a running server; nothing here touches the database):

    BONTRACK_DATA_DIR=/tmp/look uv run bontrack demo --port 8741 &
    uv run python tools/screens.py [--base http://127.0.0.1:8741] [--out /work/shots/look]
                                   [--roles physician,nurse,...] [--only chart,session]

For each role it signs in once (TOTP for the physician and the administrator, from the demo's
key), visits every link of the header menu (including "More") and one detail page of each list
(found by following the first matching link on the list page), at 1280, 820 and 390 px, full page,
into OUT/<role>/<page>-<width>.png. OUT/SUMMARY.txt lists, per page, the console errors and every
HTTP answer >= 400 the page met (the page itself, its HTMX fragments and its static files).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

WIDTHS = (1280, 820, 390)
PASSWORD = "demo-pass-2026"
TOTP_KEY = bytes.fromhex("3132333435363738393031323334353637383930")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@dataclass
class Page:
    """A page to shoot: a fixed path, or the first link matching `pattern` on the page `source`
    (a path, or the name of a page shot earlier); `suffix` is appended to the found link."""

    name: str
    path: str = ""
    source: str = ""
    pattern: str = ""
    suffix: str = ""
    query: str = ""  # text typed in the list's search box before looking for the link


@dataclass
class Role:
    name: str
    username: str
    totp: bool = False
    portal: bool = False
    nav: bool = True  # shoot every link of the header menu
    pages: list[Page] = field(default_factory=list)


SESSION = r"^/treatments/sessions/\d+/$"
CHART = r"^/patients/\d+/$"

ROLES = [
    Role(
        "physician",
        "dr.lee",
        totp=True,
        pages=[
            Page("chart", source="/patients/?q=LN0000001", pattern=CHART),
            Page("session", source="chart", pattern=SESSION),
            Page("session-note", source="chart", pattern=SESSION, suffix="note/"),
            Page("diary", source="chart", pattern=r"^/diaries/patients/\d+/$"),
            Page("chart-dystonia", source="/patients/?q=Naomi+Martin", pattern=CHART),
            Page(
                "scales",
                source="chart-dystonia",
                pattern=r"^/treatments/patients/\d+/scales/[\w-]+/$",
            ),
            Page("cycle-review", source="scales", pattern=r"/scales/[\w-]+/review/$"),
            Page(
                "consultation",
                source="chart-dystonia",
                pattern=r"^/diaries/patients/\d+/consultation/",
            ),
            Page("dashboard-patients", source="/dashboard/", pattern=r"^/dashboard/patients/\?"),
            Page(
                "cosign-session",
                source="/treatments/cosign/",
                pattern=r"^/treatments/sessions/\d+/cosign/$",
            ),
            Page(
                "urgent-effect",
                source="/treatments/adverse-effects/urgent/",
                pattern=r"^/treatments/adverse-effects/\d+/",
            ),
        ],
    ),
    Role(
        "nurse",
        "nurse.kim",
        pages=[
            Page("chart", source="/patients/?q=LN0000001", pattern=CHART),
            Page("session", source="chart", pattern=SESSION),
            Page("lot-trace", source="/inventory/", pattern=r"^/treatments/lots/\d+/trace/$"),
            Page("recall", path="/schedule/recall/"),
        ],
    ),
    Role(
        "desk",
        "desk.ortiz",
        pages=[
            Page("chart", source="/patients/?q=Carter", pattern=CHART),
            Page("patient-new", path="/patients/new/"),
            Page("appointment-new", path="/schedule/new/"),
            Page("recall", path="/schedule/recall/"),
            Page("waitlist", path="/schedule/waitlist/"),
            Page("matches", path="/schedule/matches/"),
            Page("match", source="/schedule/matches/", pattern=r"^/schedule/matches/\d+/$"),
        ],
    ),
    Role(
        "billing",
        "billing.wu",
        pages=[
            Page("claim", source="/claims/", pattern=r"^/claims/\d+/$"),
            Page("claims-attention", source="/claims/", pattern=r"^/claims/\?.*attention"),
            Page("batches", path="/claims/batches/"),
            Page("batch", source="/claims/batches/", pattern=r"^/claims/batches/\d+/$"),
            Page("authorization-chart", source="/authorizations/", pattern=CHART),
            Page(
                "authorization-edit",
                source="authorization-chart",
                pattern=r"^/authorizations/\d+/edit/$",
            ),
            Page(
                "packet",
                source="authorization-chart",
                pattern=r"^/authorizations/\d+/packet/[\w-]+/$",
            ),
        ],
    ),
    Role(
        "admin",
        "admin.patel",
        totp=True,
        pages=[
            Page("lot-trace", source="/inventory/", pattern=r"^/treatments/lots/\d+/trace/$"),
            Page("claim", source="/claims/", pattern=r"^/claims/\d+/$"),
            Page("schedule-setup", path="/schedule/setup/"),
            Page("appointment-types", path="/schedule/types/"),
            Page("record-numbers", path="/patients/record-numbers/"),
            Page("chart", source="/patients/?q=Cohen", pattern=CHART),
            Page("access-log", source="chart", pattern=r"^/patients/\d+/access-log/$"),
        ],
    ),
    Role(
        "portal",
        "patient.demo",
        portal=True,
        nav=False,
        pages=[
            Page("home", path="/portal/"),
            Page("diary", path="/portal/diary/"),
            Page("diary-week", path="/portal/diary/week/"),
            Page("diary-day", source="/portal/diary/", pattern=r"^/portal/diary/day/[\d-]+/$"),
            Page(
                "questionnaire",
                source="/portal/diary/",
                pattern=r"^/portal/diary/questionnaires/\d+/$",
            ),
            Page("before-visit", path="/portal/diary/before-your-visit/"),
            Page("appointments", path="/portal/appointments/"),
            Page("side-effects", path="/portal/side-effects/"),
            Page("checkins", path="/portal/checkins/"),
        ],
    ),
    Role(
        "portal-dystonia",
        "patient.three",
        portal=True,
        nav=False,
        pages=[
            Page("home", path="/portal/"),
            Page("scales", path="/portal/scales/"),
            Page("scale", source="/portal/scales/", pattern=r"^/portal/scales/[\w-]+/[\w-]+/$"),
        ],
    ),
    Role(
        "portal-pain",
        "patient.pain",
        portal=True,
        nav=False,
        pages=[Page("home", path="/portal/")],
    ),
    Role(
        "public",
        "",
        nav=False,
        pages=[
            Page("staff-login", path="/accounts/login/"),
            Page("portal-login", path="/portal/login/"),
            Page("password-reset", path="/accounts/password-reset/"),
            Page("book-clinic", path="/book/demo/northside/"),
            Page(
                "book-slots",
                source="/book/demo/northside/",
                pattern=r"^/book/demo/northside/[\w-]+/$",
            ),
            Page("book-form", source="book-slots", pattern=r"^/book/demo/northside/[\w-]+/[^/]+/$"),
            Page("learn", path="/programs/learn/"),
            Page("learn-topic", source="/programs/learn/", pattern=r"^/programs/learn/[\w-]+/$"),
            Page("program", source="/book/demo/northside/", pattern=r"^/programs/"),
        ],
    ),
]

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

# The elements that stick out of the viewport while their parent does not: where to look first.
CULPRITS = """
(() => {
  const limit = document.documentElement.clientWidth + 1, out = [];
  const wide = el => el.getBoundingClientRect().right > limit;
  for (const el of document.querySelectorAll("main *, header *")) {
    if (!wide(el) || (el.parentElement && wide(el.parentElement))) continue;
    const cls = el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "";
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 40);
    out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls + (text ? ' "' + text + '"' : ""));
    if (out.length >= 4) break;
  }
  return out;
})()
"""


def totp_code() -> str:
    import hashlib
    import hmac
    import struct

    counter = int(time.time()) // 30
    digest = hmac.new(TOTP_KEY, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "home"


class Shooter:
    def __init__(self, page, base: str, out: Path) -> None:
        self.page = page
        self.base = base.rstrip("/")
        self.out = out
        self.console: list[str] = []
        self.bad: list[str] = []
        self.summary_name = "SUMMARY.txt"
        page.add_init_script(WATCH)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console.append(f"page error: {exc}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        url = message.location.get("url") or ""
        if "favicon.ico" in url or "favicon.ico" in message.text:
            return
        if message.type in ("error", "warning") or "Refused" in message.text:
            self.console.append(f"{message.type}: {message.text} ({url})")

    def _response(self, response) -> None:
        if response.status >= 400 and "favicon.ico" not in response.url:
            self.bad.append(f"{response.status} {response.request.method} {response.url}")

    def goto(self, path: str):
        self.console, self.bad = [], []
        try:
            response = self.page.goto(urljoin(self.base + "/", path.lstrip("/")))
        except Exception as exc:  # noqa: BLE001 - e.g. a 405 answer: recorded, the walk goes on
            self.bad.append(f"navigation failed: {str(exc).splitlines()[0]}")
            return None
        # A page that keeps polling still gets its picture.
        with contextlib.suppress(Exception):
            self.page.wait_for_load_state("networkidle", timeout=20_000)
        return response

    def links(self) -> list[str]:
        hrefs = self.page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        )
        found = []
        for href in hrefs:
            parsed = urlparse(urljoin(self.page.url, href))
            if parsed.netloc and parsed.netloc != urlparse(self.base).netloc:
                continue
            found.append(parsed.path + (f"?{parsed.query}" if parsed.query else ""))
        return found

    def shoot(self, role: str, name: str, path: str, summary: list[str]) -> None:
        folder = self.out / role
        folder.mkdir(parents=True, exist_ok=True)
        problems: list[str] = []
        status = None
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            response = self.goto(path)
            status = response.status if response else None
            self.page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
            csp = self.page.evaluate("window.__csp || []")
            overflow = self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            for item in self.console + self.bad + [f"CSP {v}" for v in csp]:
                line = f"{item}"
                if line not in problems:
                    problems.append(line)
            if overflow > 0:
                culprits = ", ".join(self.page.evaluate(CULPRITS))
                problems.append(f"page scrolls sideways by {overflow}px at {width}px: {culprits}")
        summary.append(f"{role}/{name}  {path}  [{status}]")
        summary.extend(f"    {p}" for p in problems)
        print(summary[-1 - len(problems)], f"({len(problems)} problems)", flush=True)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / self.summary_name).write_text("\n".join(summary) + "\n")


def sign_in(shot: Shooter, role: Role) -> None:
    page = shot.page
    shot.goto("/portal/login/" if role.portal else "/accounts/login/")
    page.fill("#id_username", role.username)
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]", has_text="Sign in").click()
    page.wait_for_load_state("networkidle")
    if not role.totp:
        return
    for _attempt in range(3):
        if "/accounts/2fa/" not in page.url:
            return
        token = page.locator("input[name=token]")
        token.fill(totp_code())
        token.press("Enter")
        page.wait_for_load_state("networkidle")
        if "/accounts/2fa/" in page.url:
            time.sleep(31 - int(time.time()) % 30)  # a code is good once per 30-second window
    if "/accounts/2fa/" in page.url:
        raise SystemExit(f"{role.username}: the TOTP code was refused")


def nav_pages(shot: Shooter) -> list[Page]:
    shot.goto("/")
    hrefs = shot.page.eval_on_selector_all(
        "header.top nav a[href]",
        "els => els.map(e => [e.getAttribute('href'), e.textContent.trim()])",
    )
    pages, seen = [], set()
    for href, text in hrefs:
        if href in seen:
            continue
        seen.add(href)
        pages.append(Page("nav-" + slug(text.split("\n")[0]), path=href))
    return pages


def run(base: str, out: Path, roles: list[str] | None, only: list[str] | None) -> int:
    from playwright.sync_api import sync_playwright

    summary: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for role in ROLES:
            if roles and role.name not in roles:
                continue
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(20_000)
            shot = Shooter(page, base, out)
            if roles or only:
                shot.summary_name = "SUMMARY-partial.txt"  # a re-shoot keeps the full run's summary
            if role.username:
                sign_in(shot, role)
            found: dict[str, str] = {}
            todo = (nav_pages(shot) if role.nav else []) + role.pages
            for item in todo:
                path = item.path
                if not path:
                    source = found.get(item.source, item.source)
                    if not source.startswith("/"):
                        summary.append(f"{role.name}/{item.name}  skipped: no page {item.source}")
                        continue
                    shot.goto(source)
                    matches = [h for h in shot.links() if re.search(item.pattern, h)]
                    if not matches:
                        summary.append(
                            f"{role.name}/{item.name}  NOT FOUND: no link {item.pattern} on {source}"
                        )
                        print(summary[-1], flush=True)
                        continue
                    path = matches[0] + item.suffix
                found[item.name] = path
                if only and not any(o in item.name for o in only):
                    continue
                shot.shoot(role.name, item.name, path, summary)
            if role.nav and (not only or "menu" in only):
                # The "More" menu opened, on a phone.
                page.set_viewport_size({"width": 390, "height": 900})
                shot.goto("/")
                page.locator("details.nav-more summary").click()
                (out / role.name).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out / role.name / "menu-more-open-390.png"))
            context.close()
        browser.close()
    print(f"summary: {out}/SUMMARY*.txt")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8741")
    parser.add_argument("--out", type=Path, default=Path("/work/shots/look"))
    parser.add_argument("--roles", help="comma-separated: " + ",".join(r.name for r in ROLES))
    parser.add_argument("--only", help="comma-separated parts of page names to shoot")
    args = parser.parse_args(argv)
    split = lambda s: [x for x in s.split(",") if x] if s else None  # noqa: E731
    return run(args.base, args.out, split(args.roles), split(args.only))


if __name__ == "__main__":
    sys.exit(main())
