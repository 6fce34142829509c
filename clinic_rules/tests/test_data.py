"""Rule-set data: every entry is well formed and unconfirmed rules never block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinic_rules.data import (
    SOURCE_TAGS,
    DataError,
    all_rule_sets,
    all_rules,
    check_unique,
    parse_rule_set,
    rule,
    rule_set,
)
from clinic_rules.model import AckBy, FindingCode, Severity

FACT_SHEET = Path("/work/shared/reference/clinical-facts.md")


def test_every_rule_entry_is_complete() -> None:
    for r in all_rules():
        assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)+", r.id)
        assert r.description.strip()
        assert isinstance(r.confirmed, bool)
        assert set(r.source) <= SOURCE_TAGS
        assert r.source or not r.confirmed


def test_unconfirmed_and_policy_rules_never_block() -> None:
    for r in all_rules():
        severities = {r.severity, *r.severities.values()}
        if not r.confirmed or r.kind == "policy":
            assert Severity.BLOCK not in severities, r.id


def test_rule_sets_are_versioned_and_labelled() -> None:
    labels = [rs.label for rs in all_rule_sets()]
    assert labels == [
        "botox-us@2",
        "ichd3@1",
        "scores@1",
        "response@1",
        "billing-us@1",
        "policy@1",
        "followup@1",
    ]
    assert rule_set("botox-us")["BTX-CUM-ADULT-400"].num("max_units") == 400
    assert rule("BTX-CUM-ADULT-400").rule_set == "botox-us@2"
    with pytest.raises(KeyError):
        rule_set("nope")


def test_source_tags_match_the_fact_sheet_section_9() -> None:
    text = FACT_SHEET.read_text("utf-8") if FACT_SHEET.exists() else ""
    section = text.split("## 9. Sources", 1)[-1]
    found = set(re.findall(r"^\* (S\d+[a-z]?) ", section, re.M))
    found |= set(re.findall(r" ; (S\d+[a-z]?) ", section))
    found |= set(re.findall(r"\b(S\d+[a-z]) ", section))
    assert not text or found <= SOURCE_TAGS
    assert not text or {"S1", "S16", "S17", "S34f"} <= found


GOOD = """
[meta]
name = "t"
version = 1
description = "test"

[[rules]]
id = "T-ONE"
description = "one"
source = ["S16"]
confirmed = true
code = "cumulative-dose"
severity = "block"
params = { n = 1, f = 1.5, s = "x", l = [1, 2], w = ["a"], t = { a = 1 }, bad_t = { a = "x" }, b = true }
"""


def test_a_good_rule_set_parses_with_typed_params() -> None:
    rs = parse_rule_set(GOOD)
    r = rs["T-ONE"]
    assert rs.label == "t@1"
    assert r.int_("n") == 1 and r.num("f") == 1.5 and r.str_("s") == "x"
    assert r.nums("l") == (1.0, 2.0) and r.strs("w") == ("a",) and r.num_table("t") == {"a": 1.0}
    assert r.source_text == "S16"
    f = r.finding("m")
    assert (f.code, f.severity, f.confirmed, f.source) == (
        FindingCode.CUMULATIVE_DOSE,
        Severity.BLOCK,
        True,
        "S16",
    )
    for getter, key in [
        (r.num, "s"),
        (r.num, "b"),
        (r.int_, "f"),
        (r.int_, "b"),
        (r.str_, "n"),
        (r.nums, "w"),
        (r.nums, "n"),
        (r.strs, "l"),
        (r.strs, "n"),
        (r.table, "n"),
        (r.num_table, "bad_t"),
    ]:
        with pytest.raises(DataError):
            getter(key)


def test_findings_enforce_the_block_invariant_at_runtime() -> None:
    rs = parse_rule_set(
        GOOD.replace("confirmed = true", "confirmed = false").replace('"block"', '"warn"')
    )
    with pytest.raises(DataError, match="cannot block"):
        rs["T-ONE"].finding("m", severity=Severity.BLOCK)
    bare = parse_rule_set(GOOD.replace('code = "cumulative-dose"\nseverity = "block"\n', ""))
    with pytest.raises(DataError, match="no finding code"):
        bare["T-ONE"].finding("m")


BROKEN = [
    ("not toml [", "invalid TOML"),
    ("x = 1", "missing \\[meta\\]"),
    ('[meta]\nname = 1\nversion = 1\ndescription = "d"', "meta.name"),
    ('[meta]\nname = "t"\nversion = true\ndescription = "d"', "meta.name"),
    ('[meta]\nname = "t"\nversion = 1\ndescription = 3', "meta.description"),
    ('rules = 3\n[meta]\nname = "t"\nversion = 1\ndescription = "d"', "only"),
    ('[meta]\nname = "t"\nversion = 1\ndescription = "d"\n[other]', "only"),
    ('rules = [1]\n[meta]\nname = "t"\nversion = 1\ndescription = "d"', "not a table"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_malformed_documents_are_rejected(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_rule_set(text)


RULE_BREAKS = [
    ('id = "T-ONE"', 'id = "lower-case"', "malformed id"),
    ('id = "T-ONE"', 'id = "T-ONE"\nextra = 1', "unknown keys"),
    ('description = "one"', 'description = ""', "description"),
    ('source = ["S16"]', 'source = "S16"', "list of tags"),
    ('source = ["S16"]', 'source = ["S99"]', "unknown source tags"),
    ('source = ["S16"]', "source = []", "at least one source"),
    ("confirmed = true", 'confirmed = "yes"', "true or false"),
    ("confirmed = true", 'confirmed = true\nkind = "opinion"', "kind"),
    ("confirmed = true", 'confirmed = true\nkind = "policy"', "policy rule cannot be marked"),
    ('code = "cumulative-dose"', 'code = "made-up"', "unknown finding code"),
    ('severity = "block"', 'severity = "fatal"', "block/warn/info"),
    ('severity = "block"', 'severity_low = "block"', "go together"),
    ("confirmed = true", "confirmed = false", "configured to block"),
    (
        'severity = "block"',
        'severity = "warn"\nseverity_high = "block"\nseverity_x = 1',
        "block/warn/info",
    ),
    ("params = {", "params = 3\nx = {", "unknown keys"),
    ('severity = "block"', 'severity = "block"\nack_by = "nurse"', "ack_by must be one of"),
    ('severity = "block"', 'severity = "block"\nack_by = 1', "ack_by must be one of"),
    ('severity = "block"', 'severity = "block"\nack_by = "physician"', "rule that can warn"),
]


@pytest.mark.parametrize(("old", "new", "message"), RULE_BREAKS)
def test_rule_invariants_are_enforced_at_load_time(old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_rule_set(GOOD.replace(old, new, 1))


def test_a_physician_acknowledged_warning_carries_ack_by_and_a_block_does_not() -> None:
    """``ack_by`` says who acknowledges a warning; a block (the policy raising the warning)
    needs a physician's override instead, so the finding carries no ``ack_by``."""
    rs = parse_rule_set(
        GOOD.replace('severity = "block"', 'severity = "warn"\nack_by = "physician"', 1)
    )
    warning = rs["T-ONE"].finding("m")
    assert warning.ack_by is AckBy.PHYSICIAN
    assert warning.to_json()["ack_by"] == "physician"
    block = rs["T-ONE"].finding("m", severity=Severity.BLOCK)
    assert block.ack_by is None and block.to_json()["ack_by"] is None
    plain = parse_rule_set(GOOD.replace('severity = "block"', 'severity = "warn"', 1))
    assert plain["T-ONE"].finding("m").to_json()["ack_by"] is None


def test_every_age_gate_is_a_physician_acknowledged_warning_citing_its_sources() -> None:
    """Clinical facts §8: off-label age is a warning a physician acknowledges with a reason."""
    gates = [r for r in rule_set("botox-us").rules.values() if r.code is FindingCode.AGE]
    assert {r.id for r in gates} == {
        "BTX-CM-AGE-18",
        "BTX-CD-AGE-18",
        "BTX-SPAS-PEDS-AGE-2",
        "BTX-BLEPH-AGE-12",
    }
    for r in gates:
        assert r.severity is Severity.WARN and r.ack_by is AckBy.PHYSICIAN, r.id
        assert r.source and r.confirmed, r.id
    assert rule_set("botox-us")["BTX-PEDS-WEIGHT-REQUIRED"].severity is Severity.BLOCK
    knob = rule_set("policy")["POLICY-OFF-LABEL-AGE"]
    assert knob.str_("default") == "warn" and knob.strs("allowed") == ("warn", "block")
    assert not knob.confirmed and knob.kind == "policy"


def test_unconfirmed_extra_severity_cannot_block() -> None:
    text = GOOD.replace("confirmed = true", "confirmed = false").replace(
        'severity = "block"', 'severity = "warn"\nseverity_high = "block"'
    )
    with pytest.raises(DataError, match="configured to block"):
        parse_rule_set(text)


def test_params_must_be_a_table() -> None:
    text = GOOD.split("params =")[0] + "params = 3\n"
    with pytest.raises(DataError, match="params must be a table"):
        parse_rule_set(text)


def test_duplicate_ids_are_rejected() -> None:
    body = GOOD.split("[[rules]]")[1]
    with pytest.raises(DataError, match="duplicate rule id"):
        parse_rule_set(GOOD + "\n[[rules]]" + body)
    rs = parse_rule_set(GOOD)
    with pytest.raises(DataError, match="reused across"):
        check_unique((rs, rs))
