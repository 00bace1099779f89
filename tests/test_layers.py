"""Imports go one way: each module imports only its own layer and the layers below it.

docs/architecture.md draws the same layers. A module that is in no layer fails the
test, so a new module is placed on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# Lowest first. "transforms" stands for every rule module of transforms/.
LAYERS: tuple[tuple[str, ...], ...] = (
    # core: plain data and settings, no YAML
    (
        "errors",
        "model",
        "settings",
        "helm_templates",
        "terminal",
        "source",
        "markdown",
        "startup",
        "collector",
        "jsonstream",
        "findinglog",
        "spool",
        "spilllist",
        "__init__",
    ),
    # registry lookups of images: a leaf package that knows only the settings
    ("images",),
    # the YAML layer: tree, emitter, splices, diffs
    ("yamltree", "emit", "yamlout", "regions", "chunks", "edits", "diffing"),
    # Kubernetes views over the tree, and the Windows facts they are checked against
    ("resources", "optouts", "windows_paths", "windows_fields", "schema"),
    # the rules contract and the toolkit rules share (the admission checks included)
    ("rules", "toolkit", "admission", "windows_target"),
    ("transforms",),
    # the engine: which rules run, the run over one stream, its verdicts
    ("registry", "policy", "verdicts", "engine"),
    # the application: files, the pipeline, reports, patches, renderers, images, config files
    (
        "config",
        "files",
        "selection",
        "pipeline",
        "reporting",
        "runner",
        "patches",
        "explain",
        "render",
        "kustomize_origin",
    ),
    # front ends
    (
        "cli",
        "commands",
        "krm",
        "kustomize_plugin",
        "postrender",
        "precommit",
        "render_and_patch",
        "helm4",
        "bot",
        "__main__",
    ),
)
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    if path.parts[0] == "transforms":
        return "transforms"
    parts = path.relative_to("winfix").with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> set[str]:
    """Top-level winfix modules (or "transforms") that ``path`` imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] != "winfix" or len(parts) < 2:
                continue
            found.add("transforms" if parts[1] == "transforms" else parts[1])
    return found


def _sources() -> list[Path]:
    files = sorted((REPO / "winfix").rglob("*.py")) + sorted((REPO / "transforms").rglob("*.py"))
    return [p.relative_to(REPO) for p in files]


def test_every_module_has_a_layer() -> None:
    assert sorted({_module_name(p) for p in _sources()} - set(LAYER_OF)) == []


def test_no_module_imports_a_higher_layer() -> None:
    upward = []
    for path in _sources():
        here = _module_name(path)
        for target in _imports(REPO / path):
            if target in LAYER_OF and LAYER_OF[target] > LAYER_OF[here] and target != here:
                upward.append(f"{path} imports winfix.{target}")
    assert upward == []


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in _sources():
        if path.parts[0] == "transforms":
            continue  # rule modules import no other rule module (test_toolkit checks)
        name = ".".join(path.with_suffix("").parts)
        graph[name] = set()
    for path in _sources():
        if path.parts[0] == "transforms":
            continue
        name = ".".join(path.with_suffix("").parts)
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in graph and t != name}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
