"""ARCHITECTURE.md is the map of the package: every module on it, every import with the flow, no cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "src" / "workbench"
MAP = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")

# Function-level imports allowed: heavy optional backends only.
LAZY_OK = (
    "pyspark",
    "pymc",
    "nutpie",
    "duckdb",
    "ibis",
    "workbench.models.binary",
    "workbench.runs.pipeline",
    "workbench.runs.notebooks",
)


def _layer_ranks() -> dict[str, int]:
    """Layer name (e.g. ``contract``, ``checks``, ``errors``) -> rank, from the Layers table."""
    ranks = {}
    for rank, names in re.findall(r"^\| (\d+) \| ([^|]+) \|", MAP, flags=re.MULTILINE):
        for name in re.findall(r"`([a-z_]+)/?`", names):
            ranks[name] = int(rank)
    return ranks


RANKS = _layer_ranks()


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        rel = f.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(module: str) -> int:
    layer = _layer(module)
    if layer in ("__init__", "__main__"):
        return 0 if layer == "__init__" else 99
    return RANKS[layer]


def _imports(path: Path, module: str) -> list[tuple[str, bool, int]]:
    """(imported workbench module, inside a function?, line) for every import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    known = _modules()
    out = []
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    inside = {id(s) for f in funcs for s in ast.walk(f)}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for n in names:
            out.append((n, id(node) in inside, node.lineno))
    return out


def test_every_module_is_on_the_map_and_every_entry_exists():
    listed = set(re.findall(r"`(workbench/[a-z_/]+\.py)`", MAP))
    have = {str(p.relative_to(PKG.parent)) for p in PKG.rglob("*.py")}
    assert not have - listed, f"modules missing from ARCHITECTURE.md: {sorted(have - listed)}"
    assert not listed - have, f"ARCHITECTURE.md lists modules that do not exist: {sorted(listed - have)}"
    for layer in {_layer(m) for m in _modules()} - {"__init__", "__main__"}:
        assert layer in RANKS, f"layer {layer} has no rank in ARCHITECTURE.md"


def test_no_import_runs_against_the_flow():
    bad = []
    for module, path in _modules().items():
        if module == "workbench.__main__":
            continue
        for imported, _, line in _imports(path, module):
            if not imported.startswith("workbench.") or imported == "workbench":
                continue
            if _layer(imported) == "simulate" and _layer(module) != "simulate":
                # the simulator is a source beside the flow: only the cli may use it
                if _layer(module) != "cli":
                    bad.append(f"{module}:{line} imports {imported} (the simulator is for the cli only)")
                continue
            if _rank(imported) > _rank(module) or (
                _layer(module) == "simulate" and _rank(imported) > 2 and _layer(imported) != "simulate"
            ):
                bad.append(f"{module}:{line} imports {imported} (rank {_rank(imported)} > {_rank(module)})")
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_no_import_cycle():
    mods = _modules()
    graph = {m: set() for m in mods}
    for m, p in mods.items():
        for imported, _, _ in _imports(p, m):
            if imported in mods and imported != m:
                graph[m].add(imported)
    # a package's __init__ that imports nothing cannot close a cycle; drop the parent edge implied by Python
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for k in sorted(graph[n]):
            if state.get(k) == 1:
                cycles.append([*stack[stack.index(k) :], k])
            elif k not in state:
                visit(k)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_imports_inside_functions_are_heavy_backends_with_a_reason():
    bad = []
    for module, path in _modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for imported, inside, line in _imports(path, module):
            if not inside:
                continue
            if not imported.startswith(LAZY_OK):
                bad.append(f"{module}:{line} imports {imported} inside a function")
            elif "#" not in lines[line - 1] and "#" not in lines[line - 2]:
                bad.append(f"{module}:{line} lazy import of {imported} without a one-line reason")
    assert not bad, "\n".join(bad)
