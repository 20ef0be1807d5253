"""The sandbox models GitHub, git and semantic-release on its own, so that it can prove migrator's rules wrong:
nothing under migrator/sandbox/ may import migrator's workflow parser, analysis, rules or checker."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import migrator

SANDBOX = Path(migrator.__file__).resolve().parent / "sandbox"
FORBIDDEN = ("migrator.analysis", "migrator.rules", "migrator.workflow", "migrator.checker")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                continue  # relative imports stay inside the sandbox
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_no_sandbox_module_imports_migrators_analysis() -> None:
    offenders = {
        str(path.relative_to(SANDBOX)): sorted({n for n in _imports(path) if _forbidden(n)})
        for path in sorted(SANDBOX.rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_whole_sandbox_loads_none_of_them() -> None:
    """Transitively too: a module the sandbox imports must not pull them in."""
    modules = sorted(
        ".".join(("migrator", "sandbox", *(part for part in p.relative_to(SANDBOX).with_suffix("").parts
                                          if part != "__init__")))
        for p in SANDBOX.rglob("*.py")
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"


def test_the_check_itself_notices_a_forbidden_import(tmp_path: Path) -> None:
    planted = tmp_path / "bad.py"
    planted.write_text("from migrator.rules import token_mismatch\nimport migrator.workflow.editor as e\n")
    assert [n for n in _imports(planted) if _forbidden(n)] == [
        "migrator.rules", "migrator.rules.token_mismatch", "migrator.workflow.editor"]
