"""The JSON contract: strict validation, listing, vocabulary, serialisation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clinic_rules import InputError, list_rules, preempt_template, run, vocabulary
from clinic_rules.contract import RULES
from clinic_rules.fields import INVALID, Choice, F, Int, ListOf, Num, Obj, Spec, Str
from clinic_rules.model import Severity

from .fixtures import cm_155, single


def errors_of(name: str, doc: object) -> dict[str, list[str]]:
    with pytest.raises(InputError) as exc:
        run(name, doc)
    return exc.value.errors


def test_unknown_rule_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        run("nope", {})


def test_root_must_be_an_object() -> None:
    assert errors_of("dose-check", [1]) == {"$": ["expected object, got array"]}
    assert errors_of("reconstitution", "x") == {"$": ["expected object, got string"]}


BAD_VALUES: list[tuple[str, Any, str]] = [
    ("as_of", 0, "expected ISO date string"),
    ("as_of", "", "valid ISO date"),
    ("as_of", "2024-13-01", "valid ISO date"),
    ("as_of", "2024-02-30", "valid ISO date"),
    ("as_of", "20240601", "valid ISO date"),
    ("as_of", "2024-06-01\x00", "valid ISO date"),
    ("as_of", None, "got null"),
    ("patient.weight_kg", True, "got boolean"),
    ("patient.weight_kg", "70", "got string"),
    ("patient.weight_kg", -1, "must be > 0"),
    ("patient.weight_kg", 501, "must be <= 500"),
    ("patient.weight_kg", float("nan"), "finite"),
    ("patient.flags", "pregnancy", "expected array"),
    ("session.injections", [], "at least 1"),
    ("session.injections.0.units", -5, "must be > 0"),
    ("session.injections.0.units", True, "got boolean"),
    ("session.injections.0.sites", 1.5, "expected integer"),
    ("session.injections.0.sites", 0, "must be >= 1"),
    ("session.injections.0.side", "up", "unknown value"),
    ("session.injections.0.side", 3, "expected string"),
    ("session.injections.0.muscle", 3, "expected string"),
    ("session.injections.0.indication", "x" * 300, "unknown value"),
    ("session", "x", "expected object"),
    ("session.vials.0", {"size_units": 100}, "required"),
    ("session.performed_at", "2024-06-01 10:00", "ISO date-time"),
    ("session.performed_at", 5, "ISO date-time string"),
    ("session.performed_at", "2024-06-01T25:00:00Z", "ISO date-time"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_VALUES)
def test_bad_values_are_rejected_with_their_path(path: str, value: Any, message: str) -> None:
    doc = cm_155()
    parts = path.split(".")
    node: Any = doc
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    node[key] = value
    errs = errors_of("dose-check", doc)
    joined = " | ".join(m for msgs in errs.values() for m in msgs)
    assert message in joined, errs
    assert any(k == path or k.startswith(path + ".") for k in errs), errs


def test_all_errors_are_reported_at_once() -> None:
    doc = cm_155()
    doc["as_of"] = "nope"
    doc["extra"] = 1
    doc["session"]["injections"][3]["units"] = -1
    doc["session"]["injections"][7]["sites"] = "2"
    doc["patient"]["flags"] = ["made_up"]
    doc["history"] = [
        {"date": "2024-01-01", "product": "onabotulinumtoxinA", "indication": "chronic_migraine"}
    ]
    errs = errors_of("dose-check", doc)
    assert set(errs) == {
        "as_of",
        "extra",
        "session.injections.3.units",
        "session.injections.7.sites",
        "patient.flags.0",
        "history.0.total_units",
    }


def test_long_strings_nul_bytes_and_long_keys_are_rejected() -> None:
    base = {"instrument": "midas", "answers": {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 1}}
    errs = errors_of("questionnaire", {**base, "k" * 300: 1})
    assert list(errs) == ["k" * 40 + "..."]
    doc = {
        "as_of": "2024-06-01",
        "patient": {"birth_date": "1980-01-01"},
        "indication": "chronic_migraine",
        "days": [],
    }
    for drug, msg in [
        ("x" * 101, "longer than"),
        ("a\x00b", "control"),
        ("   ", "empty"),
        (5, "expected string"),
    ]:
        bad = {
            **doc,
            "prior_preventives": [
                {"drug": drug, "class": "beta_blocker", "outcome": "ineffective"}
            ],
        }
        assert msg in errors_of("eligibility", bad)["prior_preventives.0.drug"][0]


def test_history_after_as_of_is_rejected() -> None:
    doc = single()
    doc["history"] = [
        {
            "date": "2024-06-02",
            "product": "onabotulinumtoxinA",
            "indication": "cervical_dystonia",
            "total_units": 10,
        }
    ]
    assert "history.0.date" in errors_of("dose-check", doc)


def test_results_are_json_serialisable_and_name_the_rule_set() -> None:
    result = run("dose-check", cm_155())
    assert json.loads(json.dumps(result)) == result
    assert result["rule_set"] == "botox-us@2"


def test_list_rules_describes_every_rule_with_a_schema() -> None:
    listing = list_rules()
    assert [r["name"] for r in listing] == list(RULES)
    for entry in listing:
        schema = entry["input_schema"]
        assert isinstance(schema, dict) and ("properties" in schema or "oneOf" in schema)
        json.dumps(entry)
    dose = next(r for r in listing if r["name"] == "dose-check")["input_schema"]
    assert isinstance(dose, dict)
    assert dose["additionalProperties"] is False
    assert dose["properties"]["as_of"] == {"type": "string", "format": "date"}
    listing[0]["name"] = "mutated"
    assert list_rules()[0]["name"] == "dose-check"


def test_vocabulary() -> None:
    vocab: Any = vocabulary()
    codes = {i["code"]: i for i in vocab["indications"]}
    assert set(codes) == {
        "chronic_migraine",
        "cervical_dystonia",
        "blepharospasm",
        "upper_limb_spasticity",
        "lower_limb_spasticity",
        "facial_pain",
    }
    assert codes["facial_pain"]["off_label"] is True
    assert codes["facial_pain"]["pediatric"] is False
    assert not any(c["off_label"] for k, c in codes.items() if k != "facial_pain")
    assert codes["chronic_migraine"]["min_age"] == 18
    assert codes["blepharospasm"]["min_age"] == 12
    assert codes["upper_limb_spasticity"]["pediatric_age_range"] == [2, 17]
    muscles = {m["code"]: m for m in vocab["muscles"]}
    assert muscles["trapezius"]["indications"] == [
        "chronic_migraine",
        "cervical_dystonia",
        "facial_pain",
    ]
    assert len(muscles) == 37
    assert vocab["severities"] == ["block", "warn", "info"]
    assert "cumulative-dose" in vocab["finding_codes"]
    products = vocab["products"]
    assert isinstance(products, list)
    assert [p["code"] for p in products if p["has_rules"]] == ["onabotulinumtoxinA"]
    assert all(p["unit_conversion"] is None for p in products)
    vocab["severities"] = []
    assert vocabulary()["severities"] == ["block", "warn", "info"]


def test_preempt_template_is_the_31_site_table() -> None:
    rows: Any = preempt_template()
    assert sum(r["sites"] for r in rows) == 31
    assert sum(r["units"] for r in rows) == 155
    ftp = vocabulary()["follow_the_pain"]
    assert isinstance(ftp, dict)
    assert ftp["max_units"] == 195 and ftp["max_sites"] == 39
    assert ftp["per_muscle"]["occipitalis"] == {"units": 40, "sites": 8}


def test_field_specs_schema_and_edge_cases() -> None:
    errors: dict[str, list[str]] = {}
    assert Str(pattern=r"^a").parse("b", "p", errors) is INVALID
    assert Str(pattern=r"^a").schema()["pattern"] == "^a"
    assert Num(minimum=1).parse(0, "n", errors) is INVALID
    assert Num(minimum=1, maximum=2, exclusive_minimum=0).schema() == {
        "type": "number",
        "minimum": 1,
        "maximum": 2,
        "exclusiveMinimum": 0,
    }
    assert Int(minimum=0).parse(-1, "i", errors) is INVALID
    assert Choice(Severity).schema() == {"type": "string", "enum": ["block", "warn", "info"]}
    assert ListOf(Int(), max_items=1).parse([1, 2], "l", errors) is INVALID
    assert ListOf(Int(), min_items=1, unique_by=lambda x: x).schema()["minItems"] == 1
    assert repr(INVALID) == "INVALID"
    obj: Obj[dict[str, Any]] = Obj(
        {"a": F(Int(), required=False, default=Severity.WARN)}, dict, doc="d"
    )
    assert obj.schema()["properties"] == {"a": {"type": "integer", "default": "warn"}}
    assert obj.schema()["description"] == "d"
    with pytest.raises(NotImplementedError):
        Spec().parse(1, "", errors)
    with pytest.raises(NotImplementedError):
        Spec().schema()
    assert Str().parse(object(), "o", errors) is INVALID
    assert errors["o"] == ["expected string, got object"]
    assert set(errors) == {"p", "n", "i", "l", "o"}
    assert "weight_kg" not in single(weight_kg=None)["patient"]
