"""Mermaid flowchart output of a lifecycle graph (renders on GitLab and
GitHub inside a ```mermaid block).

Same content and colours as the DOT picture: one subgraph per device, one
per lifecycle phase inside it, missing releases in red, misplaced ones in
orange, a legend.  Labels are quoted and every character Mermaid could read
as syntax is written as an entity code (``#quot;``, ``#lt;``, ...).  This
module knows only the view model (``lifegraph``).
"""
from __future__ import annotations

import json
from typing import Dict, List

from ..lifegraph import (DRAWN_PHASES, FRAMEWORK_COLOUR, OTHER_PHASE_COLOURS, PHASE_COLOURS,
                         STATUS_COLOURS, LifecycleGraph, Node)

# characters Mermaid reads as syntax inside labels, as entity codes
_ENTITIES = {
    "#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "|": "#124;", "{": "#123;",
    "}": "#125;", "`": "#96;",
}


def escape(text: str) -> str:
    """A label body for ``id["..."]``: entity codes for syntax characters,
    ``<br/>`` for line breaks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br/>".join("".join(_ENTITIES.get(ch, ch) for ch in line) for line in lines)


def _shape(node: Node) -> str:
    label = escape("\n".join(node.lines))
    if node.kind == "hook":
        return f'["{label}"]'
    if node.kind == "helper":
        return f'("{label}")'
    if node.kind == "entry":
        return f'[["{label}"]]'
    if node.kind == "missing":
        return f'{{{{"{label}"}}}}'
    if node.role == "release":
        return f'[\\"{label}"\\]'
    return f'[/"{label}"/]'


def _class_of(node: Node) -> str:
    if node.status:
        return node.status
    if node.kind == "entry":
        return "framework"
    return {"hook": "hook", "helper": "helper"}.get(node.kind, "site") + "_" + node.phase


def render(graph: LifecycleGraph, title: str = "") -> str:
    out: List[str] = []
    if title:
        # front matter is YAML: a JSON string is a valid YAML scalar
        out += ["---", f"title: {json.dumps(title)}", "---"]
    out.append("flowchart LR")
    classes: Dict[str, List[str]] = {}
    link_styles: List[str] = []
    edges: List[str] = []
    for dev in graph.devices:
        plug = "can be hot-unplugged" if dev.unpluggable else "cannot be unplugged"
        head = f"{dev.device} ({dev.file})\n{plug}"
        out.append(f'  subgraph {dev.id}["{escape(head)}"]')
        out.append("    direction TB")
        for phase in dev.phases:
            pid = f"{dev.id}__{phase}"
            out.append(f'    subgraph {pid}["{escape(phase)}"]')
            out.append("      direction LR")
            nodes = dev.nodes.get(phase, [])
            if not nodes:
                out.append(f'      {pid}__none["(no hook)"]')
                classes.setdefault("empty", []).append(f"{pid}__none")
            for node in nodes:
                out.append(f"      {node.id}{_shape(node)}")
                classes.setdefault(_class_of(node), []).append(node.id)
            out.append("    end")
            classes.setdefault("phase_" + phase, []).append(pid)
        out.append("  end")
        for a, b in zip(dev.phases, dev.phases[1:]):
            edges.append(f"  {dev.id}__{a} ~~~ {dev.id}__{b}")
        for edge in dev.edges:
            arrow = "-.->" if edge.style in ("framework", "missing") else ("==>" if edge.style == "chained" else "-->")
            label = f'|"{escape(edge.label)}"|' if edge.label else ""
            if edge.status:
                link_styles.append(f"  linkStyle {len(edges)} stroke:{STATUS_COLOURS[edge.status]},stroke-width:3px")
            elif edge.style == "framework":
                link_styles.append(f"  linkStyle {len(edges)} stroke:{FRAMEWORK_COLOUR}")
            edges.append(f"  {edge.src} {arrow}{label} {edge.dst}")
    out.append('  subgraph legend["legend"]')
    out.append("    direction LR")
    legend = [("legend_entry", '[["QEMU core function that runs the hook"]]', "framework"),
              ("legend_hook", '["hook"]', "hook_realize"),
              ("legend_helper", '("helper")', "helper_realize"),
              ("legend_acquire", '[/"acquire"/]', "site_realize"),
              ("legend_release", '[\\"release"\\]', "site_unrealize"),
              ("legend_missing", '[/"acquire with a missing release"/]', "missing"),
              ("legend_misplaced", '[\\"release in the wrong phase, or another finding there"\\]', "misplaced")]
    for node_id, shape, cls in legend:
        out.append(f"    {node_id}{shape}")
        classes.setdefault(cls, []).append(node_id)
    out.append("  end")
    out += edges
    out += link_styles
    styles = _class_styles()
    for cls in sorted(classes):
        out.append(f"  classDef {cls} {styles[cls]}")
    for cls in sorted(classes):
        out.append(f"  class {','.join(classes[cls])} {cls}")
    return "\n".join(out) + "\n"


def _class_styles() -> Dict[str, str]:
    styles = {}
    for phase in DRAWN_PHASES:
        fill, border = PHASE_COLOURS.get(phase, OTHER_PHASE_COLOURS)
        styles[f"phase_{phase}"] = f"fill:{fill},stroke:{border},color:{border}"
        styles[f"hook_{phase}"] = f"fill:#ffffff,stroke:{border},stroke-width:3px"
        styles[f"helper_{phase}"] = f"fill:#ffffff,stroke:{border}"
        styles[f"site_{phase}"] = f"fill:{fill},stroke:{border}"
    styles["framework"] = (f"fill:#ffffff,stroke:{FRAMEWORK_COLOUR},color:{FRAMEWORK_COLOUR},"
                           "stroke-dasharray:4 3")
    styles["empty"] = "fill:none,stroke:none"
    for status, colour in STATUS_COLOURS.items():
        styles[status] = f"fill:#ffffff,stroke:{colour},color:{colour},stroke-width:3px"
    return styles
