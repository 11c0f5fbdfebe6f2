"""The dependency rule, read from the source: data flows one way, edges stay at the edge.

The core (every module of ``clvxl`` but the edges ``clvxl.excel`` and ``clvxl.cli``)
imports no edge and no Excel library; only the source readers (``clvxl.sources``) touch
the workbook readers calamine and defusedxml; an edge uses another edge only through its
public modules and names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "clvxl"
EDGES = ("clvxl.excel", "clvxl.cli")
EXCEL_LIBRARIES = ("xlwings", "xlsxwriter", "openpyxl")
WORKBOOK_READERS = ("python_calamine", "defusedxml")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Every module ``path`` imports, anywhere in it, with the names taken from it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, tuple(alias.name for alias in node.names)))
    return found


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _edge(module: str) -> str | None:
    return next((e for e in EDGES if _within(module, (e,))), None)


def violations(name: str, imported: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """What module ``name`` importing ``imported`` breaks of the rule, in words."""
    problems = []
    edge = _edge(name)
    for module, names in imported:
        top = module.split(".")[0]
        if edge is None and (_within(module, EDGES) or top in EXCEL_LIBRARIES):
            problems.append(f"the core module {name} imports {module}")
        if top in WORKBOOK_READERS and not _within(name, ("clvxl.sources",)):
            problems.append(f"{name} imports {module}; only clvxl.sources reads workbooks")
        other = _edge(module)
        if edge and other and other != edge:
            if edge == "clvxl.excel":
                problems.append(f"the Excel edge {name} imports the command line ({module})")
            private = [p for p in (*module.split("."), *names) if p.startswith("_")]
            if private:
                problems.append(f"{name} uses {module}'s internals {private}")
    return problems


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _module_name(p))
def test_every_module_keeps_the_dependency_rule(path):
    assert violations(_module_name(path), imports(path)) == []


def test_the_shims_only_forward_to_the_excel_edge():
    root = PACKAGE.parent
    assert [m for m, _ in imports(root / "udfs.py")] == ["clvxl.excel.udfs"] * 2
    assert [m for m, _ in imports(root / "clvxl_addin.py")] == ["clvxl.excel.addin"]


@pytest.mark.parametrize(
    ("name", "imported", "expected"),
    [
        (
            "clvxl.summary.engine",
            [("xlsxwriter", ())],
            "the core module clvxl.summary.engine imports xlsxwriter",
        ),
        (
            "clvxl.recalc",
            [("clvxl.excel.book", ("FileBook",))],
            "the core module clvxl.recalc imports clvxl.excel.book",
        ),
        (
            "clvxl.excel.freeze",
            [("defusedxml.ElementTree", ())],
            "clvxl.excel.freeze imports defusedxml.ElementTree; only clvxl.sources reads workbooks",
        ),
        (
            "clvxl.excel.book",
            [("clvxl.cli.recalc", ("run_recalc",))],
            "the Excel edge clvxl.excel.book imports the command line (clvxl.cli.recalc)",
        ),
        (
            "clvxl.cli.recalc",
            [("clvxl.excel.workbook", ("_clean",))],
            "clvxl.cli.recalc uses clvxl.excel.workbook's internals ['_clean']",
        ),
    ],
)
def test_each_kind_of_break_is_caught(name, imported, expected):
    assert violations(name, imported) == [expected]


def test_the_allowed_imports_pass():
    assert violations("clvxl.sources.workbook", [("python_calamine", ())]) == []
    assert violations("clvxl.cli.recalc", [("clvxl.excel", ("FileBook",))]) == []
    assert (
        violations("clvxl.excel.udfs", [("xlwings", ()), ("clvxl.recalc", ("recalculate",))]) == []
    )
