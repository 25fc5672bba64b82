"""`lifecheck graph`: lifecycle pictures of the example devices.

The DOT output is read back with a small DOT parser (below) and, when
Graphviz is installed, rendered with the real `dot`; the Mermaid output is
checked for flowchart structure (the official Mermaid CLI needs a headless
browser, which a test machine cannot download)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from lifecheck.analysis import analyse
from lifecheck.findings import Finding
from lifecheck.frontend.tree import QemuTree
from lifecheck.lifegraph import UnknownTypeError, build, select_types
from lifecheck.model import Location
from lifecheck.report import dot, mermaid

DOT = shutil.which("dot")
needs_graphviz = pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed "
                                                        "(apt-get install graphviz); SVG not tested")


def lifecheck(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "lifecheck", *args], cwd=cwd or REPO, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def examples(catalog):
    tree = QemuTree.open(EXAMPLES)
    result = analyse(tree, [EXAMPLES / "hw"], catalog, jobs=1)
    assert not result.internal
    return tree, result


def graph_of(examples, catalog, *names):
    tree, result = examples
    return build(result.program, catalog, result.report.findings, list(names), tree.version)


# -- a tiny DOT reader: enough to check structure and attributes --------------

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(->)|([{}\[\];=,])|([A-Za-z_0-9.]+))')


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        assert m, f"DOT syntax error near {text[pos:pos + 40]!r}"
        quoted, arrow, punct, word = m.groups()
        if quoted is not None:
            out.append(("id", re.sub(r'\\(.)', lambda g: {"n": "\n"}.get(g.group(1), g.group(1)),
                                     quoted[1:-1])))
        elif arrow:
            out.append(("->", arrow))
        elif punct:
            out.append((punct, punct))
        else:
            out.append(("id", word))
        pos = m.end()
    return out


def parse_dot(text):
    """-> (nodes {id: attrs}, edges [(src, dst, attrs)], clusters {id: [member ids]})"""
    toks = _tokens(text)
    i = 0
    nodes, edges, clusters = {}, [], {}

    def expect(kind):
        nonlocal i
        assert toks[i][0] == kind, f"expected {kind}, got {toks[i]} at token {i}"
        i += 1
        return toks[i - 1][1]

    def attrs():
        nonlocal i
        out = {}
        if i < len(toks) and toks[i][0] == "[":
            i += 1
            while toks[i][0] != "]":
                key = expect("id")
                expect("=")
                out[key] = expect("id")
                if toks[i][0] == ",":
                    i += 1
            i += 1
        return out

    def block(stack):
        nonlocal i
        expect("{")
        while toks[i][0] != "}":
            kind, value = toks[i]
            if kind == "id" and value == "subgraph":
                i += 1
                name = expect("id")
                clusters[name] = []
                block(stack + [name])
            elif kind == "{":
                block(stack)
            elif kind == "id" and value in ("graph", "node", "edge") and toks[i + 1][0] == "[":
                i += 1
                attrs()
            elif kind == "id" and toks[i + 1][0] == "=":
                i += 3  # rank=same
            else:
                src = expect("id")
                if toks[i][0] == "->":
                    i += 1
                    dst = expect("id")
                    edges.append((src, dst, attrs()))
                else:
                    nodes[src] = attrs()
                    for c in stack:
                        clusters[c].append(src)
            if toks[i][0] == ";":
                i += 1
        expect("}")

    assert toks[0] == ("id", "digraph")
    i = 2
    block([])
    assert i == len(toks), "text after the graph"
    return nodes, edges, clusters


def node_by_label(nodes, first_line):
    found = [n for n, a in nodes.items() if a.get("label", "").split("\n")[0] == first_line]
    assert len(found) == 1, (first_line, found)
    return found[0]


# -- content -------------------------------------------------------------------

def test_dot_shows_hooks_callers_and_sites_of_a_pci_device(examples, catalog):
    text = dot.render(graph_of(examples, catalog, "pci-ringbuf"))
    nodes, edges, clusters = parse_dot(text)
    declared = set(nodes)
    assert all(s in declared and d in declared for s, d, _ in edges), "edge to an undeclared node"
    realize = node_by_label(nodes, "pci_ringbuf_realize()")
    assert "PCIDeviceClass.realize" in nodes[realize]["label"]
    assert realize in clusters["cluster_dev_pci_ringbuf__realize"]
    exit_hook = node_by_label(nodes, "pci_ringbuf_exit()")
    assert exit_hook in clusters["cluster_dev_pci_ringbuf__unrealize"]
    # who runs the hooks: device_set_realized -> pci_qdev_realize -> the hook
    runner = node_by_label(nodes, "pci_qdev_realize()")
    top = [n for n in clusters["cluster_dev_pci_ringbuf__realize"]
           if nodes[n].get("label", "").startswith("device_set_realized()")]
    assert (runner, realize) in {(s, d) for s, d, _ in edges}
    assert (top[0], runner) in {(s, d) for s, d, _ in edges}
    assert node_by_label(nodes, "pci_qdev_unrealize()") in clusters["cluster_dev_pci_ringbuf__unrealize"]
    # acquire sites with their resource and line
    bounce = node_by_label(nodes, "g_malloc0 -> self.bounce")
    assert "hw/misc/pci-ringbuf.c:188" in nodes[bounce]["label"]
    assert (realize, bounce) in {(s, d) for s, d, _ in edges}
    init = node_by_label(nodes, "memory_region_init(self.bar)")
    assert "hw/misc/pci-ringbuf.c:177" in nodes[init]["label"]
    # the phases come in lifecycle order, and every one is drawn; run time
    # holds the MMIO handlers that still reach the bounce buffer freed in
    # unrealize (freed-in-unrealize)
    phase_clusters = [c for c in clusters if c.startswith("cluster_dev_pci_ringbuf__")]
    assert phase_clusters == ["cluster_dev_pci_ringbuf__" + p
                              for p in ("instance_init", "realize", "runtime", "unrealize", "instance_finalize")]
    assert node_by_label(nodes, "ringbuf_data_read()") in clusters["cluster_dev_pci_ringbuf__runtime"]


def test_misplaced_release_is_orange(examples, catalog):
    nodes, edges, _ = parse_dot(dot.render(graph_of(examples, catalog, "pci-ringbuf")))
    ring = node_by_label(nodes, "g_free(self.ring)")
    assert nodes[ring]["color"] == "#ea580c" and nodes[ring]["penwidth"] == "3"
    assert "[freed-in-unrealize]" in nodes[ring]["label"]
    # its BAR's read handler may still be running for an access in flight
    bounce = node_by_label(nodes, "g_free(self.bounce)")
    assert "[freed-in-unrealize]" in nodes[bounce]["label"]
    assert "ringbuf_data_read()" in nodes[bounce]["tooltip"]
    assert [a["color"] for s, d, a in edges if d == ring] == ["#ea580c"]


def test_missing_release_is_red_with_a_dashed_node_in_unrealize(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "usb-dbgwin")))
    site = node_by_label(nodes, "memory_region_add_subregion(self.mailbox)")
    assert "hw/usb/dev-dbgwin.c:129" in nodes[site]["label"]
    assert nodes[site]["color"] == "#dc2626" and nodes[site]["penwidth"] == "3"
    missing = node_by_label(nodes, "missing release in unrealize")
    assert missing in clusters["cluster_dev_usb_dbgwin__unrealize"]
    assert "self.mailbox" in nodes[missing]["label"]
    assert "memory_region_del_subregion" in nodes[missing]["label"]
    assert "dashed" in nodes[missing]["style"]
    link = [a for s, d, a in edges if (s, d) == (site, missing)]
    assert link and link[0]["color"] == "#dc2626" and "dashed" in link[0]["style"]
    # the doorbell mapping is removed in unrealize: not highlighted
    door = node_by_label(nodes, "memory_region_add_subregion(self.doorbell)")
    assert "penwidth" not in nodes[door]
    # a deletion only in instance_finalize is misplaced
    late = node_by_label(nodes, "memory_region_del_subregion(self.mailbox)")
    assert late in clusters["cluster_dev_usb_dbgwin__instance_finalize"]
    assert nodes[late]["color"] == "#ea580c"


def nodes_with(nodes, *parts):
    return sorted(n for n, a in nodes.items() if all(p in a.get("label", "") for p in parts))


def test_leak_on_an_error_exit(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "pci-watchdog")))
    site = node_by_label(nodes, "timer_new_ms -> self.bark")
    assert nodes[site]["color"] == "#dc2626" and "[realize-error-leak]" in nodes[site]["label"]
    exit_node = node_by_label(nodes, "not released on the error exit")
    assert "hw/misc/pci-watchdog.c:84" in nodes[exit_node]["label"]
    assert exit_node in clusters["cluster_dev_pci_watchdog__realize"]
    assert (site, exit_node) in {(s, d) for s, d, _ in edges}
    # leak-on-unrealize looks in unrealize and instance_finalize
    irq = node_by_label(nodes, "pci_allocate_irq -> self.irq")
    missing = node_by_label(nodes, "missing release in unrealize or instance_finalize")
    assert "qemu_free_irq" in nodes[missing]["label"]
    assert (irq, missing) in {(s, d) for s, d, _ in edges}


def test_second_release_is_linked_to_the_first(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "pci-beacon")))
    first, = nodes_with(nodes, "timer_free(self.pulse)", "pci-beacon.c:69")
    second, = nodes_with(nodes, "timer_free(self.pulse)", "pci-beacon.c:78")
    assert first in clusters["cluster_dev_pci_beacon__unrealize"]
    assert second in clusters["cluster_dev_pci_beacon__instance_finalize"]
    assert nodes[second]["color"] == "#ea580c" and "[double-release]" in nodes[second]["label"]
    assert [a["label"] for s, d, a in edges if (s, d) == (first, second)] == ["double-release"]


def test_init_leak_points_at_instance_finalize(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "sensor-hub")))
    site = node_by_label(nodes, "qemu_allocate_irq -> self.alarm")
    assert site in clusters["cluster_dev_sensor_hub__instance_init"]
    missing, = nodes_with(nodes, "missing release in instance_finalize", "self.alarm")
    assert missing in clusters["cluster_dev_sensor_hub__instance_finalize"]
    assert (site, missing) in {(s, d) for s, d, _ in edges}


def test_callback_path_from_registration_to_the_use_after_release(examples, catalog):
    # freed-in-unrealize by reachability: the thread registered in
    # realize, what it touches, and the release it comes after
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "pci-jobqueue")))
    reg = node_by_label(nodes, "qemu_thread_create(self.worker)")
    worker = node_by_label(nodes, "jobqueue_worker()")
    use, = nodes_with(nodes, "jobqueue_worker touches self.jobs[]", "pci-jobqueue.c:67")
    freed, = nodes_with(nodes, "g_free(self.jobs)", "pci-jobqueue.c:113")
    assert worker in clusters["cluster_dev_pci_jobqueue__runtime"]
    assert freed in clusters["cluster_dev_pci_jobqueue__unrealize"]
    labelled = {(s, d): a.get("label", "") for s, d, a in edges}
    assert labelled[(reg, worker)] == "registers"
    assert (worker, use) in labelled
    assert labelled[(use, freed)] == "after the release"
    # instance_finalize touching what unrealize freed is drawn in its phase
    late, = nodes_with(nodes, "pci_jobqueue_finalize touches self.slots[].done")
    assert late in clusters["cluster_dev_pci_jobqueue__instance_finalize"]


def test_request_path_from_the_queue_to_the_uncancelled_request(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "virtio-entropy-device")))
    queue = node_by_label(nodes, "virtio_add_queue -> self.vq")
    handler = node_by_label(nodes, "virtio_entropy_handle_input()")
    request, = nodes_with(nodes, "[request-not-cancelled]", "virtio-entropy.c:57")
    labelled = {(s, d): a.get("label", "") for s, d, a in edges}
    assert labelled[(queue, handler)] == "registers"
    assert labelled[(handler, request)] == "makes the request"


def test_runtime_hooks_get_their_own_phase(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "usb-dbgwin")))
    phases = [c[len("cluster_dev_usb_dbgwin__"):] for c in clusters if c.startswith("cluster_dev_usb_dbgwin__")]
    assert phases == ["instance_init", "realize", "runtime", "unrealize", "instance_finalize"]
    reset = node_by_label(nodes, "usb_dbgwin_handle_reset()")
    assert reset in clusters["cluster_dev_usb_dbgwin__runtime"]
    caller = node_by_label(nodes, "usb_device_handle_reset()")
    assert (caller, reset) in {(s, d) for s, d, _ in edges}


def test_inherited_and_chained_hooks(examples, catalog):
    nodes, edges, clusters = parse_dot(dot.render(graph_of(examples, catalog, "uart-lite-pc")))
    pairs = {(s, d): a for s, d, a in edges}
    own = node_by_label(nodes, "uart_lite_pc_realize()")
    assert "chained via device_class_set_parent_realize" in nodes[own]["label"]
    parent = node_by_label(nodes, "uart_lite_realize()")
    assert "inherited from uart-lite" in nodes[parent]["label"]
    assert pairs[(own, parent)]["label"] == "parent_realize"
    # what the parent's realize acquires is drawn under it
    regs = node_by_label(nodes, "memory_region_init_io(self.regs)")
    assert (parent, regs) in pairs
    init = node_by_label(nodes, "uart_lite_init()")
    assert "TypeInfo.instance_init, inherited from uart-lite" in nodes[init]["label"]
    assert init in clusters["cluster_dev_uart_lite_pc__instance_init"]
    unrealize = node_by_label(nodes, "uart_lite_pc_unrealize()")
    assert pairs[(unrealize, node_by_label(nodes, "uart_lite_unrealize()"))]["label"] == "parent_unrealize"


def test_helpers_between_hook_and_site(tmp_path, catalog):
    root = _snippet_tree(tmp_path, """
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "qom/object.h"

typedef struct HelpState { SysBusDevice parent_obj; MemoryRegion io; } HelpState;
#define HELP(obj) ((HelpState *)(obj))

static const MemoryRegionOps help_ops;

static void help_map(HelpState *s)
{
    memory_region_add_subregion(get_system_io(), 0x510, &s->io);
}

static void help_realize(DeviceState *dev, Error **errp)
{
    HelpState *s = HELP(dev);

    memory_region_init_io(&s->io, OBJECT(s), &help_ops, s, "help", 1);
    help_map(s);
}

static void help_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = help_realize;
}

static const TypeInfo help_types[] = {
    { .name = "help-a", .parent = TYPE_SYS_BUS_DEVICE, .class_init = help_class_init },
    { .name = "help-b", .parent = TYPE_SYS_BUS_DEVICE, .class_init = help_class_init },
};
DEFINE_TYPES(help_types)
""")
    tree = QemuTree.open(root)
    result = analyse(tree, [root / "hw"], catalog, jobs=1)
    # the run reports the shared hook once; both types' pictures show it
    assert [(f.rule, f.loc.line) for f in result.report.findings] == [("subregion-not-deleted", 14)]
    for name in ("help-a", "help-b"):
        graph = build(result.program, catalog, result.report.findings, [name], tree.version)
        nodes, edges, _ = parse_dot(dot.render(graph))
        hook = node_by_label(nodes, "help_realize()")
        helper = node_by_label(nodes, "help_map()")
        site = node_by_label(nodes, "memory_region_add_subregion(self.io)")
        assert {(hook, helper), (helper, site)} <= {(s, d) for s, d, _ in edges}
        assert nodes[site]["color"] == "#dc2626", name
        assert nodes[helper]["label"].endswith("hw/misc/help.c:12")


def test_chained_parent_outside_the_analysed_files(tmp_path, catalog):
    root = _snippet_tree(tmp_path, """
#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "qom/object.h"

typedef struct ChainClass { SysBusDeviceClass parent_class; DeviceRealize parent_realize; } ChainClass;

static void chain_realize(DeviceState *dev, Error **errp)
{
}

static void chain_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ChainClass *cc = (ChainClass *)klass;

    device_class_set_parent_realize(dc, chain_realize, &cc->parent_realize);
}

static const TypeInfo chain_types[] = {
    { .name = "chain-dev", .parent = "some-bus-device", .class_init = chain_class_init },
};
DEFINE_TYPES(chain_types)
""")
    tree = QemuTree.open(root)
    result = analyse(tree, [root / "hw"], catalog, jobs=1)
    graph = build(result.program, catalog, [], ["chain-dev"], tree.version)
    nodes, edges, _ = parse_dot(dot.render(graph))
    own = node_by_label(nodes, "chain_realize()")
    assert "chained via device_class_set_parent_realize" in nodes[own]["label"]
    parent = node_by_label(nodes, "realize of some-bus-device")
    assert "(its file was not analysed)" in nodes[parent]["label"]
    assert [a["label"] for s, d, a in edges if (s, d) == (own, parent)] == ["parent_realize"]


def test_finding_away_from_any_drawn_site(examples, catalog):
    """A finding at a call the API data does not list is still drawn, under
    the function that makes it."""
    tree, result = examples
    dev = result.program.types["pci-ringbuf"]
    hook = result.program.functions[dev.hooks["realize"][0].function]
    odd = Finding(rule="freed-in-unrealize", severity="error", loc=Location(hook.loc.file, hook.loc.line + 1, 5),
                  message="made up <for> the \"test\"", function=hook.name, resource="self.odd",
                  hook="realize", device="pci-ringbuf")
    graph = build(result.program, catalog, [odd], ["pci-ringbuf"], tree.version)
    nodes, edges, clusters = parse_dot(dot.render(graph))
    node = node_by_label(nodes, f"{hook.name}: self.odd")
    assert node in clusters["cluster_dev_pci_ringbuf__realize"]
    assert nodes[node]["color"] == "#ea580c"
    assert nodes[node]["tooltip"] == 'made up <for> the "test"'
    assert (node_by_label(nodes, f"{hook.name}()"), node) in {(s, d) for s, d, _ in edges}
    check_mermaid(mermaid.render(graph))


def _snippet_tree(tmp_path, code):
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "hw" / "misc").mkdir(parents=True)
    (root / "hw" / "misc" / "help.c").write_text(code.lstrip("\n"))
    return root


# -- selection and errors --------------------------------------------------------

def test_default_is_every_type_with_a_hook(examples, catalog):
    _, result = examples
    names = select_types(result.program, None)
    assert {"pci-ringbuf", "usb-dbgwin", "uart-lite", "uart-lite-pc"} <= set(names)
    assert names == sorted(names)


def test_unknown_type_names_candidates(examples):
    _, result = examples
    with pytest.raises(UnknownTypeError, match="did you mean: pci-ringbuf"):
        select_types(result.program, ["pci-ringbuff"])


def test_cli_unknown_type_is_a_usage_error():
    proc = lifecheck("graph", "-j", "1", "--type", "no-such-device", str(EXAMPLES / "hw" / "misc"))
    assert proc.returncode == 2
    assert "no QOM type 'no-such-device'" in proc.stderr
    assert "board-ctrl" in proc.stderr    # the types that do exist are listed (the first ones by name)
    assert "Traceback" not in proc.stderr


def test_cli_names_a_missing_path():
    proc = lifecheck("graph", "-j", "1", "--type", "pci-ringbuf", str(EXAMPLES / "hw" / "misc" / "no-such.c"))
    assert proc.returncode == 2
    assert "hw/misc/no-such.c: no such file or folder" in proc.stderr
    assert "the analysed files define no QOM types" in proc.stderr


def test_cli_svg_without_graphviz_says_what_to_do(tmp_path):
    env = {"PATH": str(tmp_path), "LIFECHECK_CACHE_DIR": str(tmp_path / "cache")}
    proc = lifecheck("graph", "--format", "svg", str(EXAMPLES / "hw" / "misc"), env=env)
    assert proc.returncode == 2
    assert "install Graphviz" in proc.stderr and "--format dot" in proc.stderr


# -- real tools ----------------------------------------------------------------

@needs_graphviz
def test_cli_svg_with_graphviz(tmp_path):
    out = tmp_path / "ringbuf.svg"
    proc = lifecheck("graph", "-j", "1", "--format", "svg", "--type", "pci-ringbuf", "-o", str(out),
                     str(EXAMPLES / "hw" / "misc" / "pci-ringbuf.c"))
    assert proc.returncode == 0, proc.stderr
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"pci_ringbuf_realize()", "g_free(self.ring)", "[freed-in-unrealize]"} <= texts


@needs_graphviz
def test_every_example_device_renders_with_graphviz(examples, catalog):
    _, result = examples
    text = dot.render(graph_of(examples, catalog, *select_types(result.program, None)))
    parse_dot(text)
    svg = dot.render_svg(text)
    ET.fromstring(svg)


@needs_graphviz
def test_labels_with_syntax_characters_survive_graphviz():
    nasty = 'a "quoted" <b> | {c} \\N back\\slash'
    text = f"digraph g {{ n [label={dot.quote(nasty)}, shape=box]; }}"
    svg = ET.fromstring(dot.render_svg(text))
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == [nasty]


def test_dot_quote():
    assert dot.quote('say "hi"\\n\nnext') == '"say \\"hi\\"\\\\n\\nnext"'
    nodes, _, _ = parse_dot(f"digraph g {{ n [label={dot.quote('<a|{b}>')}]; }}")
    assert nodes["n"]["label"] == "<a|{b}>"


# -- Mermaid -------------------------------------------------------------------

_MERMAID_ID = r"[A-Za-z][A-Za-z0-9_]*"
_MERMAID_NODE = re.compile(rf'^({_MERMAID_ID})(\[\["[^"]*"\]\]|\["[^"]*"\]|\("[^"]*"\)|'
                           rf'\[/"[^"]*"/\]|\[\\"[^"]*"\\\]|\{{\{{"[^"]*"\}}\}})$')
_MERMAID_EDGE = re.compile(rf'^({_MERMAID_ID}) (-->|-\.->|==>|~~~)(\|"[^"]*"\|)? ({_MERMAID_ID})$')


def check_mermaid(text):
    """Structural check of a flowchart: -> ({node id: label}, [(src, dst)])."""
    lines = text.splitlines()
    if lines[0] == "---":
        end = lines.index("---", 1)
        lines = lines[end + 1:]
    assert lines[0] == "flowchart LR"
    nodes, edges, subgraphs, depth, links = {}, [], set(), 0, 0
    for raw in lines[1:]:
        line = raw.strip()
        if line.startswith("subgraph "):
            m = re.match(rf'^subgraph ({_MERMAID_ID})\["[^"]*"\]$', line)
            assert m, line
            subgraphs.add(m.group(1))
            depth += 1
        elif line == "end":
            depth -= 1
            assert depth >= 0
        elif line.startswith("direction "):
            assert line in ("direction LR", "direction TB")
        elif line.startswith("classDef "):
            assert re.match(rf"^classDef {_MERMAID_ID} [a-z-]+:[^ ]+( [^ ]+)*$", line), line
        elif line.startswith("class "):
            m = re.match(rf"^class ({_MERMAID_ID}(,{_MERMAID_ID})*) ({_MERMAID_ID})$", line)
            assert m, line
            for ref in m.group(1).split(","):
                assert ref in nodes or ref in subgraphs, ref
        elif line.startswith("linkStyle "):
            m = re.match(r"^linkStyle (\d+) stroke:#[0-9a-f]{6}(,stroke-width:\d+px)?$", line)
            assert m and int(m.group(1)) < links, line
        elif _MERMAID_EDGE.match(line):
            m = _MERMAID_EDGE.match(line)
            edges.append((m.group(1), m.group(4)))
            links += 1
        else:
            m = _MERMAID_NODE.match(line)
            assert m, f"not a Mermaid node: {line!r}"
            assert m.group(1) not in ("end", "graph", "subgraph"), line
            nodes[m.group(1)] = m.group(2)
    assert depth == 0, "unbalanced subgraph/end"
    for src, dst in edges:
        assert (src in nodes or src in subgraphs) and (dst in nodes or dst in subgraphs), (src, dst)
    return nodes, edges


def test_mermaid_has_the_expected_nodes(examples, catalog):
    text = mermaid.render(graph_of(examples, catalog, "usb-dbgwin"), "lifecheck")
    nodes, edges = check_mermaid(text)
    labels = {v for v in nodes.values()}
    assert any("usb_dbgwin_realize()<br/>USBDeviceClass.realize" in v for v in labels)
    assert any("usb_device_realize()" in v for v in labels)
    site = [k for k, v in nodes.items() if v.startswith('[/"memory_region_add_subregion(self.mailbox)')]
    missing = [k for k, v in nodes.items() if "missing release in unrealize" in v]
    assert site and missing and (site[0], missing[0]) in edges
    assert re.search(rf"^  class [^ ]*\b{site[0]}\b[^ ]* missing$", text, re.M)
    assert re.search(r"^  classDef missing .*stroke:#dc2626", text, re.M)


def test_mermaid_escapes_syntax_characters():
    assert mermaid.escape('a "b" <c> | {d} #e') == "a #quot;b#quot; #lt;c#gt; #124; #123;d#125; #35;e"
    assert mermaid.escape("one\ntwo") == "one<br/>two"


def test_mermaid_of_every_example_is_well_formed(examples, catalog):
    _, result = examples
    check_mermaid(mermaid.render(graph_of(examples, catalog, *select_types(result.program, None))))


MERMAID_DIR = os.environ.get("LIFECHECK_MERMAID_DIR")


@pytest.mark.skipif(not (MERMAID_DIR and shutil.which("node")),
                    reason="the real Mermaid parser is not set up: run 'npm install mermaid jsdom' in "
                           "a folder and set LIFECHECK_MERMAID_DIR to it (needs node)")
def test_mermaid_parses_with_the_real_mermaid(examples, catalog, tmp_path):
    _, result = examples
    good = tmp_path / "examples.mmd"
    good.write_text(mermaid.render(graph_of(examples, catalog, *select_types(result.program, None)),
                                   'title: with "quotes"'))
    broken = tmp_path / "broken.mmd"
    broken.write_text('flowchart LR\n  a["x"] --> b(\n')
    env = dict(os.environ, LIFECHECK_MERMAID_DIR=MERMAID_DIR)
    script = str(Path(__file__).with_name("mermaid_parse.mjs"))
    ok = subprocess.run(["node", script, str(good)], env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(["node", script, str(broken)], env=env, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "Parse error" in bad.stdout   # the check can fail


# -- determinism -----------------------------------------------------------------

def test_output_is_identical_across_runs_and_job_counts(tmp_path):
    outs = []
    for jobs in ("1", "2", "1"):
        out = tmp_path / f"g{len(outs)}.dot"
        proc = lifecheck("graph", "-j", jobs, "-o", str(out), str(EXAMPLES / "hw"))
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    proc = lifecheck("graph", "-j", "1", "--format", "mermaid", str(EXAMPLES / "hw" / "usb"))
    again = lifecheck("graph", "-j", "2", "--format", "mermaid", str(EXAMPLES / "hw" / "usb"))
    assert proc.returncode == again.returncode == 0
    assert proc.stdout == again.stdout


def test_readme_example_is_current():
    """docs/graph-example.svg and the README's Mermaid block come from the
    commands the README shows."""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert block, "README has no Mermaid example"
    proc = lifecheck("graph", "-j", "1", "--format", "mermaid", "--type", "usb-dbgwin",
                     str(EXAMPLES / "hw" / "usb" / "dev-dbgwin.c"))
    assert proc.returncode == 0, proc.stderr
    assert block.group(1) == proc.stdout, (
        "README's Mermaid block is stale: regenerate it with 'lifecheck graph --format mermaid "
        "--type usb-dbgwin examples/hw/usb/dev-dbgwin.c' (and docs/graph-example.svg with --format svg)")
    assert Path(REPO / "docs" / "graph-example.svg").is_file()
