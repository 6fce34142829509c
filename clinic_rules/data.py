"""Loading and validation of the versioned TOML rule sets under ``clinic_rules/data/``.

Each file holds ``[meta]`` (name, version, description) and ``[[rules]]`` entries. Every
entry carries ``id``, ``description``, ``source`` (fact-sheet §9 tags), ``confirmed`` and,
when it produces findings, ``code`` and ``severity`` (extra severities as ``severity_*``), and
``ack_by = "physician"`` when only a physician may acknowledge its warning, with a reason.
Unconfirmed rules and policy rules (``kind = "policy"``) may never be configured to block.
Files are parsed once per process (``functools.cache``).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

from .model import (
    AckBy,
    BilateralBilling,
    Finding,
    FindingCode,
    Policy,
    ResponseRuleSet,
    Severity,
)

# Source tags resolved in §9 of the clinical fact sheet.
SOURCE_TAGS: frozenset[str] = frozenset(
    [
        "S1",
        "S2",
        "S3",
        "S3b",
        "S4",
        "S4b",
        "S5",
        "S6",
        "S6b",
        "S7",
        "S8",
        "S8b",
        "S8c",
        "S8d",
        "S8e",
        "S9",
        "S9b",
        "S10",
        "S10b",
        "S10c",
        "S11",
        "S12",
        "S13",
        "S14",
        "S15",
        "S16",
        "S17",
        "S17b",
        "S17c",
        "S18",
        "S19",
        "S19b",
        "S19c",
        "S20",
        "S20b",
        "S21",
        "S22",
        "S23",
        "S23b",
        "S23c",
        "S23d",
        "S24",
        "S24b",
        "S24c",
        "S24d",
        "S24e",
        "S25",
        "S25b",
        "S25c",
        "S26",
        "S26b",
        "S27",
        "S27b",
        "S27c",
        "S27d",
        "S27e",
        "S27f",
        "S28",
        "S28b",
        "S29",
        "S29b",
        "S29c",
        "S29d",
        "S29e",
        "S30",
        "S30a",
        "S30b",
        "S30c",
        "S30d",
        "S30e",
        "S30f",
        "S30g",
        "S30h",
        "S30i",
        "S30j",
        "S31",
        "S31b",
        "S32",
        "S33",
        "S33b",
        "S34",
        "S34b",
        "S34c",
        "S34d",
        "S34e",
        "S34f",
    ]
)

RULE_SET_FILES: tuple[str, ...] = (
    "botox-us.v2.toml",
    "ichd3.v1.toml",
    "scores.v1.toml",
    "response.v1.toml",
    "billing-us.v1.toml",
    "policy.v1.toml",
    "followup.v1.toml",
)

_RULE_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
_KINDS = ("clinical", "policy")
_RULE_KEYS = frozenset(
    {"id", "description", "source", "confirmed", "kind", "code", "severity", "ack_by", "params"}
)


class DataError(ValueError):
    """A rule-set file is malformed or breaks a safety invariant."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    source: tuple[str, ...]
    confirmed: bool
    kind: str
    code: FindingCode | None
    severity: Severity | None
    severities: Mapping[str, Severity]
    params: Mapping[str, object]
    rule_set: str
    ack_by: AckBy | None = None

    @property
    def source_text(self) -> str:
        return ", ".join(self.source)

    def finding(
        self, message: str, severity: Severity | None = None, code: FindingCode | None = None
    ) -> Finding:
        sev = severity if severity is not None else self.severity
        fcode = code if code is not None else self.code
        if sev is None or fcode is None:
            raise DataError(f"{self.id}: rule has no finding code/severity")
        if sev is Severity.BLOCK and (not self.confirmed or self.kind == "policy"):
            raise DataError(f"{self.id}: unconfirmed or policy rule cannot block")
        # ``ack_by`` says who acknowledges a warning; a block always needs a physician override.
        ack_by = self.ack_by if sev is Severity.WARN else None
        return Finding(fcode, self.id, sev, message, self.source_text, self.confirmed, ack_by)

    def alt(self, name: str) -> Severity:
        return self.severities[name]

    def num(self, key: str) -> float:
        value = self.params[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DataError(f"{self.id}: param {key} is not a number")
        return float(value)

    def int_(self, key: str) -> int:
        value = self.params[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"{self.id}: param {key} is not an integer")
        return value

    def str_(self, key: str) -> str:
        value = self.params[key]
        if not isinstance(value, str):
            raise DataError(f"{self.id}: param {key} is not a string")
        return value

    def nums(self, key: str) -> tuple[float, ...]:
        value = self.params[key]
        if not isinstance(value, list) or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in value
        ):
            raise DataError(f"{self.id}: param {key} is not a list of numbers")
        return tuple(float(v) for v in value)

    def strs(self, key: str) -> tuple[str, ...]:
        value = self.params[key]
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            raise DataError(f"{self.id}: param {key} is not a list of strings")
        return tuple(value)

    def table(self, key: str) -> Mapping[str, object]:
        value = self.params[key]
        if not isinstance(value, Mapping):
            raise DataError(f"{self.id}: param {key} is not a table")
        return value

    def num_table(self, key: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, value in self.table(key).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise DataError(f"{self.id}: param {key}.{name} is not a number")
            out[name] = float(value)
        return out


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    version: int
    description: str
    rules: Mapping[str, Rule] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]


def _severity(rule_id: str, key: str, value: object) -> Severity:
    if not isinstance(value, str) or value not in Severity.__members__.values():
        raise DataError(f"{rule_id}: {key} must be one of block/warn/info")
    return Severity(value)


def _parse_rule(raw: object, set_label: str, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise DataError(f"{set_label}: rules[{index}] is not a table")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.match(rule_id):
        raise DataError(f"{set_label}: rules[{index}] has a missing or malformed id")
    unknown = set(raw) - _RULE_KEYS - {k for k in raw if k.startswith("severity_")}
    if unknown:
        raise DataError(f"{rule_id}: unknown keys {sorted(unknown)}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise DataError(f"{rule_id}: description must be one non-empty line")
    source = raw.get("source")
    if not isinstance(source, list) or any(not isinstance(s, str) for s in source):
        raise DataError(f"{rule_id}: source must be a list of tags")
    bad_tags = [s for s in source if s not in SOURCE_TAGS]
    if bad_tags:
        raise DataError(f"{rule_id}: unknown source tags {bad_tags}")
    confirmed = raw.get("confirmed")
    if not isinstance(confirmed, bool):
        raise DataError(f"{rule_id}: confirmed must be true or false")
    if confirmed and not source:
        raise DataError(f"{rule_id}: a confirmed rule needs at least one source tag")
    kind = raw.get("kind", "clinical")
    if kind not in _KINDS:
        raise DataError(f"{rule_id}: kind must be clinical or policy")
    if kind == "policy" and confirmed:
        raise DataError(f"{rule_id}: a policy rule cannot be marked confirmed")
    code_raw = raw.get("code")
    code: FindingCode | None = None
    if code_raw is not None:
        if not isinstance(code_raw, str) or code_raw not in FindingCode.__members__.values():
            raise DataError(f"{rule_id}: unknown finding code {code_raw!r}")
        code = FindingCode(code_raw)
    severity = None if "severity" not in raw else _severity(rule_id, "severity", raw["severity"])
    if (severity is None) != (code is None):
        raise DataError(f"{rule_id}: code and severity go together")
    severities = {
        k.removeprefix("severity_"): _severity(rule_id, k, v)
        for k, v in raw.items()
        if k.startswith("severity_")
    }
    may_block = confirmed and kind == "clinical"
    if not may_block and Severity.BLOCK in (severity, *severities.values()):
        raise DataError(f"{rule_id}: unconfirmed or policy rule configured to block")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise DataError(f"{rule_id}: params must be a table")
    ack_raw = raw.get("ack_by")
    ack_by: AckBy | None = None
    if ack_raw is not None:
        if not isinstance(ack_raw, str) or ack_raw not in AckBy.__members__.values():
            raise DataError(f"{rule_id}: ack_by must be one of {sorted(AckBy)}")
        if Severity.WARN not in (severity, *severities.values()):
            raise DataError(f"{rule_id}: ack_by is for a rule that can warn")
        ack_by = AckBy(ack_raw)
    return Rule(
        id=rule_id,
        description=description,
        source=tuple(source),
        confirmed=confirmed,
        kind=str(kind),
        code=code,
        severity=severity,
        severities=MappingProxyType(severities),
        params=MappingProxyType(params),
        rule_set=set_label,
        ack_by=ack_by,
    )


def parse_rule_set(text: str) -> RuleSet:
    """Parse and validate one rule-set document (raises DataError)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"invalid TOML: {exc}") from exc
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        raise DataError("missing [meta] table")
    name, version, description = meta.get("name"), meta.get("version"), meta.get("description")
    if not isinstance(name, str) or not isinstance(version, int) or isinstance(version, bool):
        raise DataError("meta.name must be a string and meta.version an integer")
    if not isinstance(description, str):
        raise DataError("meta.description must be a string")
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list) or set(doc) - {"meta", "rules"}:
        raise DataError("a rule set holds only [meta] and [[rules]]")
    label = f"{name}@{version}"
    rules: dict[str, Rule] = {}
    for index, raw in enumerate(raw_rules):
        rule = _parse_rule(raw, label, index)
        if rule.id in rules:
            raise DataError(f"{label}: duplicate rule id {rule.id}")
        rules[rule.id] = rule
    return RuleSet(name, version, description, MappingProxyType(rules))


@functools.cache
def all_rule_sets() -> tuple[RuleSet, ...]:
    base = resources.files("clinic_rules") / "data"
    sets = tuple(parse_rule_set((base / fname).read_text("utf-8")) for fname in RULE_SET_FILES)
    check_unique(sets)
    return sets


def check_unique(sets: tuple[RuleSet, ...]) -> None:
    """Rule IDs are unique across all rule sets (case files are named by rule ID)."""
    seen: set[str] = set()
    for rs in sets:
        dup = seen & set(rs.rules)
        if dup:
            raise DataError(f"rule ids reused across rule sets: {sorted(dup)}")
        seen |= set(rs.rules)


@functools.cache
def rule_set(name: str) -> RuleSet:
    for rs in all_rule_sets():
        if rs.name == name:
            return rs
    raise KeyError(name)


def rule(rule_id: str) -> Rule:
    return _rule_index()[rule_id]


@functools.cache
def _rule_index() -> Mapping[str, Rule]:
    return MappingProxyType({r.id: r for rs in all_rule_sets() for r in rs.rules.values()})


def all_rules() -> list[Rule]:
    return list(_rule_index().values())


@functools.cache
def default_policy() -> Policy:
    p = rule_set("policy")
    return Policy(
        window_days=p["POLICY-CUMULATIVE-WINDOW"].int_("default"),
        early_cm_retreatment=Severity(p["POLICY-CM-EARLY-RETREATMENT"].str_("default")),
        off_label_age=Severity(p["POLICY-OFF-LABEL-AGE"].str_("default")),
        response_rule_set=ResponseRuleSet(p["POLICY-RESPONSE-RULE-SET"].str_("default")),
        failed_preventive_classes_required=p["POLICY-FAILED-PREVENTIVE-CLASSES"].int_("default"),
        require_4h_for_headache_day=p["POLICY-REQUIRE-4H-HEADACHE-DAY"].params["default"] is True,
        count_probable_as_migraine=p["POLICY-COUNT-PROBABLE-MIGRAINE"].params["default"] is True,
        min_diary_completeness=p["POLICY-DIARY-COMPLETENESS"].num("default"),
        bilateral_billing=BilateralBilling(p["POLICY-BILATERAL-BILLING"].str_("default")),
    )
