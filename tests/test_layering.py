"""The house rules on imports: subscribers never imports digest; stages never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parent.parent
STAGES = {"gather", "summarize", "compose", "render", "message", "deliver"}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_subscribers_never_imports_digest():
    for path in (REPO / "subscribers").rglob("*.py"):
        assert not {n for n in imports_of(path) if n == "digest" or n.startswith("digest.")}, path


def test_stages_do_not_import_each_other_or_the_layers_above():
    for stage in STAGES:
        imported = imports_of(REPO / "digest" / f"{stage}.py")
        others = {f"digest.{s}" for s in STAGES - {stage}} | {"digest.pipeline", "digest.cli", "digest.demo"}
        assert not imported & others, (stage, imported & others)


def test_modules_stay_small():
    for path in [*(REPO / "digest").rglob("*.py"), *(REPO / "subscribers").rglob("*.py")]:
        assert len(path.read_text().splitlines()) <= 400, path
