"""The house rules on imports: subscribers never imports digest; stages never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parent.parent
# A stage may span modules (the summarize stage: its dispatcher and its two backends).
STAGES = {
    "gather": {"gather", "extract"},
    "summarize": {"summaries", "summarize", "summarize_llm", "summarize_model"},
    "compose": {"compose"},
    "render": {"render"},
    "message": {"message"},
    "deliver": {"deliver"},
}


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
    for stage, modules in STAGES.items():
        others = {f"digest.{m}" for other, ms in STAGES.items() if other != stage for m in ms}
        others |= {"digest.pipeline", "digest.cli", "digest.demo", "digest.web"}
        for module in modules:
            imported = imports_of(REPO / "digest" / f"{module}.py")
            assert not imported & others, (module, imported & others)


def test_modules_stay_small():
    for path in [*(REPO / "digest").rglob("*.py"), *(REPO / "subscribers").rglob("*.py")]:
        assert len(path.read_text().splitlines()) <= 400, path
