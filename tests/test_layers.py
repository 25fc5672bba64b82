"""The layers import one way (docs/architecture.md):

    model <- frontend
    model <- graph <- facts <- rules <- pipeline <- report <- cli

The suite fails on an import cycle inside lifecheck/ and on an import that
runs against the layering.  Imports inside functions count like any other.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Dict, Set

import networkx as nx

PKG = Path(__file__).resolve().parent.parent / "lifecheck"

# what each layer must not import (module name prefixes)
FORBIDDEN = {
    "lifecheck.model": ["lifecheck."],
    "lifecheck.frontend": ["lifecheck.graph", "lifecheck.facts", "lifecheck.rules", "lifecheck.pipeline",
                           "lifecheck.report", "lifecheck.analysis", "lifecheck.cli", "lifecheck.lifegraph",
                           "lifecheck.cache"],
    "lifecheck.graph": ["lifecheck.frontend", "lifecheck.facts", "lifecheck.rules", "lifecheck.pipeline",
                        "lifecheck.report", "lifecheck.analysis", "lifecheck.cli", "lifecheck.lifegraph",
                        "lifecheck.cache"],
    "lifecheck.facts": ["lifecheck.frontend", "lifecheck.rules", "lifecheck.pipeline", "lifecheck.report",
                        "lifecheck.analysis", "lifecheck.cli", "lifecheck.lifegraph", "lifecheck.cache",
                        "lifecheck.findings"],
    "lifecheck.rules": ["lifecheck.frontend", "lifecheck.pipeline", "lifecheck.report", "lifecheck.analysis",
                        "lifecheck.cli", "lifecheck.lifegraph", "lifecheck.cache"],
    "lifecheck.pipeline": ["lifecheck.frontend", "lifecheck.report", "lifecheck.analysis", "lifecheck.cli",
                           "lifecheck.cache"],
    "lifecheck.report": ["lifecheck.frontend", "lifecheck.analysis", "lifecheck.cli", "lifecheck.cache"],
}


def _modname(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    mods: Dict[str, Path] = {_modname(p): p for p in PKG.rglob("*.py")}
    g = nx.DiGraph()
    for mod, path in mods.items():
        g.add_node(mod)
        pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in mods:
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                if t and t != mod:
                    g.add_edge(mod, t)
    return g


def _under(mod: str, prefix: str) -> bool:
    return mod.startswith(prefix) if prefix.endswith(".") else (mod == prefix or mod.startswith(prefix + "."))


def test_no_import_cycle():
    g = import_graph()
    cycles = [c for c in nx.simple_cycles(g) if len(c) > 1]
    assert not cycles, [" -> ".join(c + [c[0]]) for c in cycles]


def test_no_import_against_the_layering():
    g = import_graph()
    bad: Set[str] = set()
    for a, b in g.edges:
        for layer, banned in FORBIDDEN.items():
            if _under(a, layer) and any(_under(b, x) for x in banned):
                bad.add(f"{a} imports {b}")
    assert not bad, sorted(bad)


def test_the_layering_check_sees_a_violation(tmp_path, monkeypatch):
    """The checks above can fail: an upward import planted in a copy of
    the package is caught."""
    import shutil
    copy = tmp_path / "lifecheck"
    shutil.copytree(PKG, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "graph.py").write_text((copy / "graph.py").read_text() + "\nfrom .rules import engine\n")
    monkeypatch.setattr(sys.modules[__name__], "PKG", copy)
    g = import_graph()
    assert g.has_edge("lifecheck.graph", "lifecheck.rules.engine")
    assert any(len(c) > 1 for c in nx.simple_cycles(g))
