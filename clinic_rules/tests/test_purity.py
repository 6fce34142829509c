"""clinic_rules is pure: stdlib only, no Django, no clock, no I/O beyond its own data."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import clinic_rules

PACKAGE = Path(clinic_rules.__file__).parent
MODULES = sorted(p for p in PACKAGE.glob("*.py"))
ALLOWED = {
    "__future__",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "importlib",
    "math",
    "re",
    "tomllib",
    "types",
    "typing",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(str(node.module).split(".")[0])
    return names


def test_modules_import_only_the_stdlib_allow_list() -> None:
    assert len(MODULES) >= 12
    for path in MODULES:
        assert _imports(path) <= ALLOWED, (path.name, _imports(path) - ALLOWED)


def test_no_clock_and_no_file_access_in_source() -> None:
    banned = {"now", "today", "utcnow", "open", "getenv", "environ", "time_ns", "perf_counter"}
    for path in MODULES:
        tree = ast.parse(path.read_text("utf-8"))
        calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
        used = {f.attr for f in calls if isinstance(f, ast.Attribute)}
        used |= {f.id for f in calls if isinstance(f, ast.Name)}
        assert not used & banned, (path.name, used & banned)


def test_importing_every_module_does_not_import_django() -> None:
    names = [f"clinic_rules.{p.stem}" for p in MODULES if p.stem != "__init__"]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "import clinic_rules\n"
        "clinic_rules.list_rules(); clinic_rules.vocabulary()\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert out.stdout.strip() == "ok"
