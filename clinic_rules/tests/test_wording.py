"""Finding messages are sentences a clinician reads (issue 14 item 7).

Every case file is run and every finding message it produces must read as a sentence: a capital
or a digit first, a full stop last, units written with U, dates in words, muscle and indication
labels instead of codes; the rule ID, source and description stay separate fields.
"""

from __future__ import annotations

import enum
import re
from datetime import date
from typing import Any

import pytest

from clinic_rules import model, run
from clinic_rules.data import all_rules
from clinic_rules.vocabulary import MUSCLES
from clinic_rules.wording import day, listing, plural, span, units, where

from .test_cases import build_input, load_cases

ENUMS: list[type[enum.Enum]] = [
    v for v in vars(model).values() if isinstance(v, type) and issubclass(v, enum.Enum)
]
ENUM_CODES = sorted(
    {str(m.value) for e in ENUMS for m in e if "_" in str(m.value)}
    | {m for m in MUSCLES if "_" in m}
)
RULE_IDS = sorted((re.escape(r.id) for r in all_rules()), key=len, reverse=True)
RAW = re.compile(
    r"\b(?:" + "|".join(RULE_IDS) + r")\b"  # rule IDs
    r"|\b\d{4}-\d{2}-\d{2}\b"  # ISO dates
    r"|(?<![\w-])(?:" + "|".join(ENUM_CODES) + r")(?![\w-])"  # snake_case codes
    r"|\b(?:warn|block|weight_kg|performed_at)\b"  # severity and field codes
)


def _messages() -> list[tuple[str, str]]:
    out = []
    for param in load_cases():
        _rule_id, case = param.values
        if "errors" in case:
            continue
        result: Any = run(case["rule"], build_input(case))
        out += [(f["rule_id"], str(f["message"])) for f in result.get("findings", [])]
    return out


MESSAGES = _messages()


def test_the_cases_produce_findings_of_most_rules() -> None:
    with_findings = {r.id for r in all_rules() if r.severity is not None}
    assert len({rid for rid, _ in MESSAGES} & with_findings) >= len(with_findings) * 0.8


@pytest.mark.parametrize(("rule_id", "message"), sorted(set(MESSAGES)))
def test_a_finding_message_is_a_plain_sentence(rule_id: str, message: str) -> None:
    assert message[:1].isupper() or message[:1].isdigit(), message
    assert message.endswith("."), message
    assert RAW.search(message) is None, message
    assert rule_id not in message


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (units(495), "495 U"),
        (units(200.5), "200.5 U"),
        (day(date(2026, 3, 3)), "3 March 2026"),
        (span(date(2024, 4, 23), date(2024, 7, 15)), "from 23 April 2024 to 15 July 2024"),
        (listing([]), ""),
        (listing([16]), "16"),
        (listing([16, 18, 17]), "16, 18 and 17"),
        (plural(1, "day", "days"), "1 day"),
        (plural(83, "day", "days"), "83 days"),
        (where("temporalis", model.Side.LEFT), "Left temporalis"),
        (where("procerus", "midline"), "Procerus (midline)"),
        (where("frontalis", model.Side.BILATERAL), "Frontalis (both sides)"),
        (where("unknown_muscle", "right"), "Right unknown muscle"),
    ],
)
def test_words(value: str, text: str) -> None:
    assert value == text
