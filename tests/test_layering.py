"""The house rules on imports, by package: nothing imports upward, stages never import each other.

Floors, top to bottom: the command line, the other entry points (web app,
scheduler, demo), the flows (the workflows that chain stages and storage), the
stages side by side, the core, and `subscribers` on the ground. A module may import its own package and any floor
below it; only the core's modules import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parent.parent
# The command line starts the web app, the scheduler and the demo; they call the flows.
FLOORS = [
    {"cli"},
    {"web", "daemon", "demo"},
    {"flows"},  # making, reviewing and sending issues, acting on what comes back, signup notices
    {"gather", "summarize", "compose", "render", "deliver", "inbound"},
    {"config", "config_rules", "content", "errors", "db", "models", "store", "metrics", "migrations", "returnpath",
     "net"},
]
CORE = FLOORS[-1]


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def unit_of(dotted: str) -> str | None:
    """digest.render.html -> render; digest.compose -> compose; digest -> None."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "digest" and len(parts) > 1 else None


def floor_of(unit: str) -> int:
    return next(i for i, floor in enumerate(FLOORS) if unit in floor)


def digest_modules() -> list[tuple[Path, str]]:
    """Every module of digest with the unit (package or top-level module) it belongs to."""
    found = []
    for path in (REPO / "digest").rglob("*.py"):
        relative = path.relative_to(REPO / "digest")
        if len(relative.parts) == 1 and relative.stem in {"__init__", "__main__"}:
            continue
        found.append((path, relative.parts[0] if len(relative.parts) > 1 else relative.stem))
    return found


def test_every_module_belongs_to_a_known_floor():
    for path, unit in digest_modules():
        assert any(unit in floor for floor in FLOORS), f"{path} is in no package of the house plan"


def test_top_level_modules_are_only_the_core_the_demo_and_compose():
    loose = {p.stem for p in (REPO / "digest").glob("*.py")} - {"__init__", "__main__"}
    assert loose <= CORE | {"demo", "compose"}, loose


def offences(modules: list[tuple[str, str, set[str]]]) -> list[str]:
    """Each (label, unit, imported names) that imports a floor above it or a sibling on its floor."""
    found = []
    for label, unit, imported in modules:
        here = floor_of(unit)
        for name in sorted(imported):
            other = unit_of(name)
            if other is None or other == unit or not any(other in floor for floor in FLOORS):
                continue
            there = floor_of(other)
            if there < here or (there == here and FLOORS[here] is not CORE):
                found.append(f"{label} imports {name}")
    return found


def test_nothing_imports_upward_and_stages_do_not_import_each_other():
    modules = [(str(path.relative_to(REPO)), unit, imports_of(path)) for path, unit in digest_modules()]
    assert not offences(modules), "\n".join(offences(modules))


def test_the_rule_refuses_upward_and_sideways_imports():
    assert offences([("r", "render", {"digest.deliver.transports"}), ("g", "gather", {"digest.flows.sending"}),
                     ("w", "web", {"digest.daemon.schedule"}), ("s", "store", {"digest.web.app"})]) == [
        "r imports digest.deliver.transports", "g imports digest.flows.sending", "w imports digest.daemon.schedule",
        "s imports digest.web.app"]
    assert not offences([("c", "cli", {"digest.web.app", "digest.flows.sending"}), ("p", "flows", {"digest.render"}),
                         ("h", "render", {"digest.render.dkim", "digest.config", "subscribers.db"}),
                         ("m", "models", {"digest.store"})])


def test_subscribers_never_imports_digest():
    for path in (REPO / "subscribers").rglob("*.py"):
        assert not {n for n in imports_of(path) if n == "digest" or n.startswith("digest.")}, path


def test_modules_stay_small():
    for path in [*(REPO / "digest").rglob("*.py"), *(REPO / "subscribers").rglob("*.py")]:
        assert len(path.read_text().splitlines()) <= 400, path
