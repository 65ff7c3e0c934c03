"""The package layout and the one-way import rule, read from the source (issue 15).

New capabilities add modules; this test keeps them in the right room: imports flow from the
pure core (text, trends, repeats, cluster, demo) through the store and jobs to the read side
(queries) and the surfaces (api, report, cli), never back.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "rca"
PURE = {"text", "trends", "repeats", "vendors", "sop", "cluster", "demo"}
# What a pure package may import of rca's: the other pure packages and the leaf modules.
PURE_MAY_IMPORT = PURE | {"errors", "settings", "periods"}
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "settings.py", "errors.py", "periods.py"}
NAMED_FOR_RESOURCES = {"api", "cli", "report"}


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module under rca/."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts)] = path
    return found


def _is_rca(module: str) -> bool:
    return module == "rca" or module.startswith("rca.")


def _imports(path: Path) -> set[str]:
    """Every rca module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if _is_rca(a.name)}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_rca(node.module or ""):
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _package(module: str) -> str:
    """`rca.trends.glm` → `trends`; `rca.settings` → `settings`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_top_level_holds_packages_and_the_leaf_modules_only():
    loose = {p.name for p in ROOT.glob("*.py")} - TOP_LEVEL_MODULES
    assert not loose, f"move these into the package of their stage: {sorted(loose)}"


def test_module_names_are_unique_outside_the_resource_named_surfaces():
    names = Counter(
        path.stem
        for module, path in _modules().items()
        if path.stem != "__init__" and _package(module) not in NAMED_FOR_RESOURCES
    )
    assert not {n for n, c in names.items() if c > 1}, names.most_common(5)


def test_imports_flow_one_way():
    problems = []
    for module, path in _modules().items():
        package = _package(module)
        for imported in _imports(path):
            target = _package(imported)
            if target == "cli" and package != "cli" and module != "rca.__main__":
                problems.append(f"{module} imports the CLI ({imported})")
            if target == "api" and package not in {"api", "cli"}:  # `rca serve` starts it
                problems.append(f"{module} imports the API ({imported})")
            if package in PURE and target and target not in PURE_MAY_IMPORT:
                problems.append(f"pure {module} imports {imported}")
    assert not problems, "\n".join(sorted(problems))


def test_the_reader_sees_lazy_imports(tmp_path):
    """An import inside a function counts too, so the rule above is not vacuous."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from rca.store import Store\n    import rca.cli.app\n")
    assert {"rca.store", "rca.store.Store", "rca.cli.app"} <= _imports(probe)
