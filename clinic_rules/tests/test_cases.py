"""Runs every table-driven case file in ``cases/`` (one file per rule ID)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from clinic_rules import InputError, run
from clinic_rules.data import all_rules

from .fixtures import FIXTURES

CASES = Path(__file__).parent / "cases"
FILES = sorted(CASES.glob("*.toml"))


def _walk(doc: Any, path: str) -> tuple[Any, str | int]:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parts[:-1]:
        doc = doc[part]
    return doc, parts[-1]


def get(doc: Any, path: str) -> Any:
    parent, key = _walk(doc, path)
    return parent[key]


def build_input(case: dict[str, Any]) -> Any:
    if "fixture" in case:
        doc = FIXTURES[case["fixture"]](**case.get("args", {}))
    else:
        doc = copy.deepcopy(case["input"])
    for path, value in case.get("set", {}).items():
        parent, key = _walk(doc, path)
        parent[key] = value
    for path, items in case.get("append", {}).items():
        get(doc, path).extend(items)
    for path in case.get("delete", []):
        parent, key = _walk(doc, path)
        del parent[key]
    return doc


def load_cases() -> list[Any]:
    params = []
    for file in FILES:
        data = tomllib.loads(file.read_text("utf-8"))
        for case in data["cases"]:
            case.setdefault("rule", data["rule"])
            params.append(pytest.param(data["rule_id"], case, id=f"{file.stem}: {case['name']}"))
    return params


def test_every_rule_id_has_a_case_file() -> None:
    ids = {r.id for r in all_rules()}
    files = {f.stem for f in FILES}
    assert ids - files == set(), "rule IDs without a case file"
    assert files - ids == set(), "case files without a rule ID"


def test_case_files_name_their_rule() -> None:
    for file in FILES:
        data = tomllib.loads(file.read_text("utf-8"))
        assert data["rule_id"] == file.stem
        assert data["cases"], file


@pytest.mark.parametrize(("rule_id", "case"), load_cases())
def test_case(rule_id: str, case: dict[str, Any]) -> None:
    doc = build_input(case)
    if "errors" in case:
        with pytest.raises(InputError) as exc:
            run(case["rule"], doc)
        assert sorted(exc.value.errors) == sorted(case["errors"]), exc.value.errors
        return
    result: Any = run(case["rule"], doc)
    got = {f"{f['severity']} {f['rule_id']}" for f in result.get("findings", [])}
    for expected in case.get("expect", []):
        assert expected in got, (expected, got)
    ids = {g.split(" ", 1)[1] for g in got}
    for absent in case.get("absent", []):
        assert absent not in ids, (absent, got)
    if case.get("only"):
        assert got == set(case["expect"]), got
    for path, value in case.get("values", {}).items():
        expected = None if value == "__none__" else value
        assert get(result, path) == expected, (path, get(result, path))
    for path, value in case.get("contains", {}).items():
        assert value in get(result, path), (path, get(result, path))
