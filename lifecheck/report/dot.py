"""Graphviz DOT output of a lifecycle graph, and SVG through Graphviz.

One cluster per device, inside it one cluster per lifecycle phase in
lifecycle order, coloured the same way in every picture; acquire sites whose
release is missing in red, releases made in the wrong phase in orange; a
legend.  Output is byte-identical for identical input (ids and order come
from the view model, which sorts everything).  This module knows only the
view model (``lifegraph``), never the program model or the rules.
"""
from __future__ import annotations

import shutil
import subprocess
from typing import List, Optional

from ..lifegraph import (DRAWN_PHASES, FRAMEWORK_COLOUR, OTHER_PHASE_COLOURS, PHASE_COLOURS,
                         STATUS_COLOURS, DeviceGraph, Edge, LifecycleGraph, Node)

FONT = "Helvetica"
SITE_SHAPES = {"acquire": "note", "release": "folder", "disarm": "tab"}
SVG_TIMEOUT = 120  # seconds; a graph of one device renders in well under a second


class GraphvizError(Exception):
    """Graphviz is missing or failed; the message says what to do."""


def quote(text: str) -> str:
    """A DOT double-quoted string.  Backslashes and quotes are escaped (so
    Graphviz's ``\\N``-style substitutions never fire on C text); line breaks
    become ``\\n``.  ``< > | { }`` need no escaping in quoted strings as long
    as no record shape or HTML label is used, and none is."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


def _attrs(**attrs) -> str:
    parts = []
    for key in sorted(attrs):
        value = attrs[key]
        if value is None or value == "":
            continue
        parts.append(f"{key}={quote(str(value))}")
    return "[" + ", ".join(parts) + "]" if parts else ""


def _node_attrs(node: Node) -> dict:
    fill, border = PHASE_COLOURS.get(node.phase, OTHER_PHASE_COLOURS)
    attrs = {"label": "\n".join(node.lines), "color": border, "fillcolor": "#ffffff",
             "style": "filled", "shape": "box", "tooltip": node.tooltip or "\n".join(node.lines)}
    if node.kind == "entry":
        attrs.update(style="dashed", color=FRAMEWORK_COLOUR, fontcolor=FRAMEWORK_COLOUR,
                     fillcolor="")
    elif node.kind == "hook":
        attrs.update(style="filled,bold", penwidth="2")
    elif node.kind == "helper":
        attrs.update(style="filled,rounded")
    elif node.kind in ("site", "finding"):
        attrs.update(shape=SITE_SHAPES.get(node.role, "note"), fillcolor=fill)
    elif node.kind == "missing":
        attrs.update(shape="octagon", style="dashed,bold")
    if node.status:
        colour = STATUS_COLOURS[node.status]
        attrs.update(color=colour, fontcolor=colour, penwidth="3")
    return attrs


def _edge_attrs(edge: Edge, phase_border: str) -> dict:
    attrs = {"label": edge.label, "color": phase_border}
    if edge.style == "framework":
        attrs.update(style="dashed", color=FRAMEWORK_COLOUR, fontcolor=FRAMEWORK_COLOUR)
    elif edge.style == "chained":
        attrs.update(style="bold")
    elif edge.style == "missing":
        attrs.update(style="dashed,bold")
    if edge.status:
        colour = STATUS_COLOURS[edge.status]
        attrs.update(color=colour, fontcolor=colour, penwidth="2.5")
    return attrs


def _device_title(dev: DeviceGraph) -> str:
    chain = " > ".join((dev.device,) + dev.ancestors)
    plug = "can be hot-unplugged" if dev.unpluggable else "cannot be unplugged"
    findings = len(dev.findings)
    return (f"{dev.device}  ({dev.file})\n{chain}\n{plug}: {dev.unplug_reason}; "
            f"{findings} finding{'s' if findings != 1 else ''}")


def render(graph: LifecycleGraph, title: str = "") -> str:
    out: List[str] = ["digraph lifecycle {"]
    out.append(f"  graph {_attrs(rankdir='LR', fontname=FONT, fontsize='12', newrank='true', ordering='out', labelloc='t', label=title, nodesep='0.25', ranksep='0.4')};")
    out.append(f"  node {_attrs(fontname=FONT, fontsize='10')};")
    out.append(f"  edge {_attrs(fontname=FONT, fontsize='9')};")
    node_phase = {}
    for dev in graph.devices:
        out.append(f"  subgraph {quote('cluster_' + dev.id)} {{")
        out.append(f"    graph {_attrs(label=_device_title(dev), style='rounded', color='#9ca3af', fontsize='12')};")
        anchors = []
        for phase in dev.phases:
            fill, border = PHASE_COLOURS.get(phase, OTHER_PHASE_COLOURS)
            anchor = f"{dev.id}__{phase}"
            anchors.append(anchor)
            out.append(f"    subgraph {quote('cluster_' + anchor)} {{")
            out.append(f"      graph {_attrs(label=phase, style='filled,rounded', fillcolor=fill, color=border, fontcolor=border)};")
            # an invisible anchor keeps empty phases visible and in order
            out.append(f"      {quote(anchor)} {_attrs(shape='point', style='invis', width='0', label='')};")
            nodes = dev.nodes.get(phase, [])
            if not nodes:
                out.append(f"      {quote(anchor + '__none')} {_attrs(label='(no hook)', shape='plaintext', fontcolor=border)};")
            for node in nodes:
                node_phase[node.id] = phase
                out.append(f"      {quote(node.id)} {_attrs(**_node_attrs(node))};")
            out.append("    }")
        out.append("  }")
        # phases stacked top to bottom in lifecycle order
        out.append(f"  {{ rank=same; {'; '.join(quote(a) for a in anchors)}; }}")
        for a, b in zip(anchors, anchors[1:]):
            out.append(f"  {quote(b)} -> {quote(a)} {_attrs(style='invis')};")
        # with rankdir=LR Graphviz lays a rank's nodes out bottom to top:
        # emit edges last-first so sites read top-down in source order
        for edge in reversed(dev.edges):
            border = PHASE_COLOURS.get(node_phase.get(edge.src, ""), OTHER_PHASE_COLOURS)[1]
            out.append(f"  {quote(edge.src)} -> {quote(edge.dst)} {_attrs(**_edge_attrs(edge, border))};")
    out.extend(_legend())
    out.append("}")
    return "\n".join(out) + "\n"


def _legend() -> List[str]:
    out = [f"  subgraph {quote('cluster_legend')} {{",
           f"    graph {_attrs(label='legend', style='rounded', color='#9ca3af')};"]
    items = []
    for phase in DRAWN_PHASES:
        fill, border = PHASE_COLOURS.get(phase, OTHER_PHASE_COLOURS)
        items.append((f"legend_{phase}", {"label": f"{phase} phase", "style": "filled,rounded",
                                          "fillcolor": fill, "color": border, "shape": "box"}))
    items += [
        ("legend_entry", {"label": "QEMU core function\nthat runs the hook", "style": "dashed",
                          "color": FRAMEWORK_COLOUR, "fontcolor": FRAMEWORK_COLOUR, "shape": "box"}),
        ("legend_hook", {"label": "hook (bold)\nhelper (rounded)", "style": "bold", "shape": "box"}),
        ("legend_sites", {"label": "acquire (note)\nrelease (folder)\ndisarm (tab)", "shape": "note"}),
        ("legend_missing", {"label": "acquire with a missing release", "shape": "note", "penwidth": "3",
                            "color": STATUS_COLOURS["missing"], "fontcolor": STATUS_COLOURS["missing"]}),
        ("legend_misplaced", {"label": "release in the wrong phase\nor another finding there", "shape": "folder", "penwidth": "3",
                              "color": STATUS_COLOURS["misplaced"], "fontcolor": STATUS_COLOURS["misplaced"]}),
    ]
    for node_id, attrs in items:
        out.append(f"    {quote(node_id)} {_attrs(**attrs)};")
    out.append("    { rank=same; " + "; ".join(quote(node_id) for node_id, _ in items) + "; }")
    for (a, _), (b, _) in zip(items, items[1:]):
        out.append(f"    {quote(b)} -> {quote(a)} {_attrs(style='invis')};")
    out.append("  }")
    return out


MISSING_GRAPHVIZ = ("--format svg needs Graphviz's 'dot' program on PATH: install Graphviz "
                    "(e.g. 'apt-get install graphviz') or use --format dot or --format mermaid")


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render_svg(dot_text: str, dot_program: Optional[str] = None, timeout: float = SVG_TIMEOUT) -> str:
    """Run Graphviz's ``dot -Tsvg`` on ``dot_text`` (an argument list, no
    shell).  Raises GraphvizError when ``dot`` is missing, fails or hangs."""
    exe = dot_program or shutil.which("dot")
    if exe is None:
        raise GraphvizError(MISSING_GRAPHVIZ)
    try:
        proc = subprocess.run([exe, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"Graphviz's dot did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise GraphvizError(f"cannot run Graphviz's dot ({exe}): {exc.strerror or exc}") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizError(f"Graphviz's dot failed (exit {proc.returncode})"
                            + (f": {detail[0]}" if detail else ""))
    return proc.stdout.decode("utf-8")
