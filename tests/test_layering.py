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
    {"gather", "summarize", "compose", "render", "deliver", "inbound", "analytics"},
    {"config", "config_rules", "settings", "settings_web", "content", "errors", "db", "models", "models_api", "models_clicks", "store",
     "audience", "metrics", "migrations", "returnpath", "net"},
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
        assert len(path.read_text().splitlines()) <= 350, path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports, at the top or inside a function alike.

    `from a.b import c` is an edge to a.b.c when that is a module (the package
    a.b is only where it is found), else to a.b, where c is defined.
    """
    paths = [*(REPO / "digest").rglob("*.py"), *(REPO / "subscribers").rglob("*.py")]
    known = {module_name(p): p for p in paths if "migrations" not in p.parts}

    def ours(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    graph = {}
    for name, path in known.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {ours(alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    edges.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known
                              else ours(node.module))
        graph[name] = edges - {None, name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once (Tarjan's strongly connected components of two or more)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_two_modules_import_each_other_even_inside_functions():
    assert not cycles(module_graph()), cycles(module_graph())


def test_the_circle_finder_finds_a_circle_through_three_modules():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert not cycles({"a": {"b"}, "b": {"c"}, "d": {"a", "c"}})
