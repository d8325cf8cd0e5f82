"""The layout rules of DESIGN.md, checked on the source: imports go one way, modules stay small.

Every import counts, function-local ones included, so a cycle cannot be hidden by moving
an import into a function; only `if TYPE_CHECKING:` blocks, which never run, are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("exporter", "receiver", "servicekit", "dashboards")
MAX_LINES = 400
# DESIGN.md's layers, top (0) to bottom: a module may import only from a lower layer
# (or its own folder). Subpackages and top-level modules are ranked; what is not listed
# (a new folder) must be given a rank here, so the layering is decided, not drifted into.
# `servicekit` and `dashboards` are flat packages of a few modules each and are exempt:
# the cycle and size rules cover them, and DESIGN.md gives them no layers.
LAYERS = {
    "exporter": {
        "__main__": -1, "cli": 0,
        "server": 1,
        "config": 2, "discovery": 2, "scrape": 2, "tlssite": 2, "webconfig": 2,
        "collectors": 3,
        "accessformats": 4, "devicefilter": 4, "follow": 4, "forecast": 4, "probing": 4,
        "procfs": 4, "sockdiag": 4, "sysattr": 4,
        "authlimit": 5, "cardinality": 5, "certs": 5, "collector": 5, "linearregex": 5,
        "regularfile": 5, "selfmetrics": 5, "statefile": 5,
        "exposition": 6, "memory": 6, "sharedreads": 6, "watchdog": 6, "": 6,
        "families": 7,
    },
    "receiver": {
        "__main__": -1, "cli": 0,
        "commands": 1,
        "service": 2,
        # The incidents page reuses the API's queries and stream, so it sits just above it.
        "web": 2.5,
        "api": 3, "ingest": 3,
        "http": 4,
        "pipeline": 5,
        "outbox": 6,
        "channels": 7,
        "templates": 8,
        "config_reader": 9,
        # Signed action links: made by the templates, checked by the page and the API.
        "actionlinks": 9.5,
        "config": 10, "model": 10,
        "matchers": 11,
        "metrics": 12, "store": 12, "": 12,
    },
}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Names of the project's modules that `module` imports, resolved to modules."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in known and name != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: _imported(
            ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py", known
        )
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of module names, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("exporter", ("receiver",)),
        ("receiver", ("exporter",)),
        ("servicekit", ("exporter", "receiver")),
    ],
)
def test_packages_import_only_what_they_may(package: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in _graph().items()
        if name.split(".")[0] == package
        for target in targets
        if target.split(".")[0] in forbidden
    )
    assert wrong == []


def _layer(module: str) -> tuple[str, str]:
    """(package, the folder or top-level module of that package) for a module name."""
    parts = module.split(".")
    return parts[0], parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_layers_import_downward_only(package: str) -> None:
    ranks = LAYERS[package]
    graph = {m: t for m, t in _graph().items() if m.split(".")[0] == package}
    unranked = sorted({_layer(m)[1] for m in graph} - set(ranks))
    assert unranked == [], f"give these a layer in LAYERS: {unranked}"
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if _layer(target)[0] == package
        and _layer(target)[1] != _layer(module)[1]
        and ranks[_layer(target)[1]] <= ranks[_layer(module)[1]]
    )
    assert upward == []


def test_no_product_module_is_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in _modules().values()
    }
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_the_cycle_finder_finds_a_hidden_cycle() -> None:
    # The checks above pass on a clean tree; this keeps them able to fail.
    tree = ast.parse("def later():\n    from receiver import b\n")
    assert _imported(tree, "receiver.a", False, {"receiver.a", "receiver"}) == {"receiver"}
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
