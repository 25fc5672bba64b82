"""The frontend: chunking, chunked parsing with GNU C, locations."""
from __future__ import annotations

from lifecheck.frontend.chunks import FUNCTION, TAG, TYPEDEF, split_chunks
from lifecheck.frontend.parse import parse_preprocessed

PRE = '''# 1 "/t/include/x.h"
typedef struct Foo Foo;
struct Foo { int a; };
static inline int helper(int x) { return x; }
# 10 "/t/hw/a.c"
static int bad(void) { return ({ 1; }) & 1 ?: 2; }
int good(Foo *f)
{
    return f->a;
}
'''


def test_chunks_follow_line_markers():
    chunks = split_chunks(PRE)
    kinds = [(c.file, c.line, c.kind) for c in chunks]
    assert kinds == [
        ("/t/include/x.h", 1, TYPEDEF),
        ("/t/include/x.h", 2, TAG),
        ("/t/include/x.h", 3, FUNCTION),
        ("/t/hw/a.c", 10, FUNCTION),
        ("/t/hw/a.c", 11, FUNCTION),
    ]


def test_typedefs_carry_over_and_gnu_c_parses():
    result = parse_preprocessed(PRE, lambda f: f == "/t/hw/a.c")
    assert result.functions_found == 2
    assert result.functions_recovered == 2
    names = [p.ast.ext[0].decl.name for p in result.parsed]
    assert names == ["bad", "good"]
    good = result.parsed[1].ast.ext[0]
    assert good.decl.coord.line == 11


def test_one_bad_function_costs_only_itself():
    text = '# 1 "/t/a.c"\nint f(void) { return 1 +; }\nint g(void) { return 2; }\n'
    result = parse_preprocessed(text, lambda f: True)
    assert (result.functions_found, result.functions_recovered) == (2, 1)
    assert [c.line for c, _ in result.failed] == [1]


def test_unknown_library_types_are_guessed():
    text = '# 5 "/t/a.c"\nint f(cbor_item_t *map) { cbor_item_t *k = 0; return map == k; }\n'
    result = parse_preprocessed(text, lambda f: True)
    assert result.functions_recovered == 1


# -- the QOM model: TypeInfo forms, class_data, parent hooks, hotplug --------

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from lifecheck.analysis import build_units  # noqa: E402
from lifecheck.frontend.tree import QemuTree  # noqa: E402
from lifecheck.graph import Program  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

QOM_HEAD = """\
#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qom/object.h"
void type_register(const TypeInfo *info);
typedef struct FooState { PCIDevice parent_obj; MemoryRegion io; } FooState;
typedef struct FooClass { PCIDeviceClass parent_class; DeviceRealize parent_realize;
                          DeviceUnrealize parent_unrealize; } FooClass;
#define FOO(obj) ((FooState *)(obj))
#define FOO_GET_CLASS(obj) ((FooClass *)object_get_class(OBJECT(obj)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
"""


@pytest.fixture
def program_of(tmp_path, catalog):
    """program_of({"hw/misc/a.c": code, ...}) -> graph.Program of those files
    in a throw-away tree that has the examples' headers."""
    def _program(files):
        root = tmp_path / "tree"
        shutil.copytree(EXAMPLES / "include", root / "include")
        (root / "VERSION").write_text("10.2.2\n")
        paths = []
        for name, code in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code)
            paths.append(path)
        units, internal = build_units(QemuTree.open(root), paths, jobs=1)
        assert not internal
        return Program(units, catalog.tables)
    return _program


def _line(code, needle):
    return next(i for i, line in enumerate(code.splitlines(), 1) if needle in line)


def _hooks(program, name, phase):
    return sorted(r.function[1] for r in program.types[name].hooks.get(phase, ()))


def test_static_typeinfo_array_and_define_types(program_of):
    code = QOM_HEAD + """
static void a_init(Object *obj) { }
static void a_fin(Object *obj) { }
static void a_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->user_creatable = false;
}
static const TypeInfo types[] = {
    { .name = "dev-a", .parent = TYPE_PCI_DEVICE, .instance_init = a_init,
      .instance_finalize = a_fin, .class_init = a_class_init },
    { .name = "dev-b", .parent = "dev-a" },
};
DEFINE_TYPES(types)
"""
    p = program_of({"hw/misc/a.c": code})
    a, b = p.types["dev-a"], p.types["dev-b"]
    assert (a.parent, a.record.class_init) == ("pci-device", "a_class_init")
    assert (a.record.loc.line, b.record.loc.line) == (_line(code, '"dev-a"'), _line(code, '"dev-b"'))
    assert _hooks(p, "dev-b", "instance_init") == ["a_init"]          # inherited
    assert _hooks(p, "dev-b", "instance_finalize") == ["a_fin"]
    assert (b.unpluggable, b.unplug_reason) == (False, "dev-a sets user_creatable = false")


LOOP = QOM_HEAD + """
typedef struct VariantInfo { const char *name; uint16_t device_id; bool unplug;
                             void (*realize)(PCIDevice *dev, Error **errp); } VariantInfo;
static void common_realize(PCIDevice *dev, Error **errp) { }
static void special_realize(PCIDevice *dev, Error **errp) { }
static void var_exit(PCIDevice *dev) { }
static void var_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    DeviceClass *dc = DEVICE_CLASS(klass);
    const VariantInfo *info = data;
    k->realize = info->realize ? info->realize : common_realize;
    k->exit = info->unplug ? var_exit : NULL;
    k->device_id = info->device_id;
    if (!info->unplug) {
        dc->hotpluggable = false;
    }
}
static const VariantInfo variants[] = {
    { .name = "var-plain", .device_id = 1, .unplug = true },
    { .name = "var-special", .device_id = 2, .unplug = true, .realize = special_realize },
    { .name = "var-fixed", .device_id = 3, .unplug = false },
};
static void var_register_types(void)
{
    int i;
    for (i = 0; i < ARRAY_SIZE(variants); i++) {
        const VariantInfo *info = &variants[i];
        TypeInfo type_info = {};
        type_info.name = info->name;
        type_info.parent = TYPE_PCI_DEVICE;
        type_info.class_data = info;
        type_info.class_init = var_class_init;
        type_register(&type_info);
    }
}
static void var2_register_types(void)
{
    TypeInfo ti = { .parent = "var-plain", .class_init = var_class_init };
    int i;
    for (i = 0; i < ARRAY_SIZE(variants); i++) {
        ti.name = variants[i].name[0] ? "var2" : "never";
        ti.class_data = variants + i;
        type_register_static(&ti);
    }
}
type_init(var_register_types)
"""


def test_registration_loop_makes_one_type_per_table_entry(program_of):
    p = program_of({"hw/net/var.c": LOOP})
    names = sorted(n for n in p.types if n.startswith("var-"))
    assert names == ["var-fixed", "var-plain", "var-special"]
    special = p.types["var-special"]
    assert special.record.registered_by == "var_register_types: variants[1]"
    assert special.record.loc.line == _line(LOOP, '{ .name = "var-special"')
    assert dict(special.record.class_data)["device_id"] == "2"
    # the entry's realize wins over the default; exit only where unplug is set
    assert _hooks(p, "var-plain", "realize") == ["common_realize"]
    assert _hooks(p, "var-special", "realize") == ["special_realize"]
    assert _hooks(p, "var-plain", "unrealize") == ["var_exit"]
    assert _hooks(p, "var-fixed", "unrealize") == []
    # hotpluggable = false under if (!info->unplug)
    assert p.types["var-plain"].unpluggable
    assert not p.types["var-fixed"].unpluggable
    assert p.types["var-fixed"].unplug_reason == "var-fixed sets hotpluggable = false"


PARENT = QOM_HEAD + """
static void base_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->io, OBJECT(s), NULL, s, "io", 16);
}
static void base_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = base_realize;
}
static void child_realize(DeviceState *dev, Error **errp)
{
    FooClass *fc = FOO_GET_CLASS(dev);
    fc->parent_realize(dev, errp);
}
static void child_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    FooClass *fc = (FooClass *)klass;
    device_class_set_parent_realize(dc, child_realize, &fc->parent_realize);
}
static const TypeInfo types[] = {
    { .name = "foo-base", .parent = TYPE_PCI_DEVICE, .class_init = base_class_init },
    { .name = "foo-child", .parent = "foo-base", .class_init = child_class_init },
    { .name = "foo-grandchild", .parent = "foo-child" },
};
DEFINE_TYPES(types)
"""


def test_parent_realize_call_runs_the_parent_types_realize(program_of):
    p = program_of({"hw/misc/foo.c": PARENT})
    for name in ("foo-child", "foo-grandchild"):
        dev = p.types[name]
        assert _hooks(p, name, "realize") == ["child_realize"]
        events = [(e.site.callee, e.via) for e in p.events(dev, "realize")]
        assert ("memory_region_init_io", ("child_realize", "base_realize")) in events
        init = next(e for e in p.events(dev, "realize") if e.site.callee == "memory_region_init_io")
        assert init.args[0].path.key() == "self.io"


def test_duplicate_type_names_first_file_wins_and_is_recorded(program_of):
    one = QOM_HEAD + 'static const TypeInfo t = { .name = "dup", .parent = TYPE_PCI_DEVICE };\n'
    two = QOM_HEAD + 'static const TypeInfo t = { .name = "dup", .parent = "sys-bus-device" };\n'
    p = program_of({"hw/b/x.c": two, "hw/a/x.c": one})
    assert p.types["dup"].file == "hw/a/x.c"
    assert p.duplicate_types == {"dup": ["hw/a/x.c", "hw/b/x.c"]}


def test_hotpluggable_true_set_by_the_device_makes_it_unpluggable(program_of):
    code = QOM_HEAD + """
static void d_class_init(ObjectClass *klass, const void *data)
{
    DEVICE_CLASS(klass)->hotpluggable = true;
}
static void dev_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->hotpluggable = true;
    dc->user_creatable = true;
}
static const TypeInfo types[] = {
    { .name = "device", .parent = "object", .class_init = dev_class_init },
    { .name = "plain-sysbus", .parent = "device" },
    { .name = "hot-sysbus", .parent = "device", .class_init = d_class_init },
};
DEFINE_TYPES(types)
"""
    p = program_of({"hw/core/d.c": code})
    assert not p.types["plain-sysbus"].unpluggable        # the default from TYPE_DEVICE
    assert p.types["hot-sysbus"].unpluggable
    assert p.types["hot-sysbus"].unplug_reason == "hot-sysbus sets hotpluggable = true"


# -- per-target files ----------------------------------------------------------

import re  # noqa: E402

from lifecheck.frontend import preprocess  # noqa: E402
from lifecheck.frontend.preprocess import Preprocessor  # noqa: E402


def _code(text):
    """Preprocessed text without line markers."""
    return " ".join(line for line in text.splitlines() if not line.startswith("#"))


def _target_tree(tmp_path, mak_dir="configs/targets"):
    root = tmp_path / "t"
    (root / "include" / "qemu").mkdir(parents=True)
    (root / "VERSION").write_text("10.2.2\n")
    # as QEMU's osdep.h does (10.x spelling; 5.2/7.2 test NEED_CPU_H)
    (root / "include" / "qemu" / "osdep.h").write_text(
        "#ifdef COMPILING_PER_TARGET\n#include CONFIG_TARGET\n#endif\n")
    for arch, header, text in (("arm", "kvm_arm.h", "#define WIDTH TARGET_LONG_BITS\n"),
                               ("i386", "cpu.h", "#define WIDTH (TARGET_LONG_BITS + 1)\n"),
                               ("arm", "cpu.h", "#define WIDTH (TARGET_LONG_BITS + 2)\n")):
        (root / "target" / arch).mkdir(parents=True, exist_ok=True)
        (root / "target" / arch / header).write_text(text)
    mak = root / mak_dir
    mak.mkdir(parents=True)
    (mak / "arm-softmmu.mak").write_text("TARGET_ARCH=arm\nTARGET_LONG_BITS=32\n")
    (mak / "aarch64-softmmu.mak").write_text(
        "TARGET_ARCH=aarch64\nTARGET_BASE_ARCH=arm\nTARGET_XML_FILES= a.xml b.xml\n"
        "TARGET_NEED_FDT=y\nTARGET_LONG_BITS=64\n")
    (mak / "x86_64-softmmu.mak").write_text("TARGET_ARCH=x86_64\nTARGET_BASE_ARCH=i386\n"
                                             "TARGET_LONG_BITS=64\n")
    return root


def test_a_header_only_one_target_has_picks_that_target(tmp_path):
    root = _target_tree(tmp_path)
    src = root / "hw" / "intc" / "gic_kvm.c"
    src.parent.mkdir(parents=True)
    src.write_text('#include "qemu/osdep.h"\n#include "kvm_arm.h"\nint width(void) { return WIDTH; }\n'
                   "#if defined(TARGET_AARCH64) && defined(TARGET_ARM) && TARGET_NEED_FDT\n"
                   "int fdt(void) { return 1; }\n#endif\n")
    pre = Preprocessor(QemuTree.open(root), tmp_path / "stubs")
    out = pre.run(src)
    assert out.target == "arm"
    assert re.search(r"return\s+64\s*;", _code(out.text)) and "int fdt(void)" in out.text
    assert not (tmp_path / "stubs" / "kvm_arm.h").exists()   # never answered by a stub


def test_a_target_header_stubbed_for_one_target_is_not_seen_by_others(tmp_path):
    """An i386 board asking for kvm_arm.h (only arm has it) gets an empty
    stub for i386 alone: a file analysed after it that asks for kvm_arm.h
    first must still fail without a target and become an arm file, whatever
    the order the files come in."""
    root = _target_tree(tmp_path)
    board = root / "hw" / "i386" / "board.c"
    board.parent.mkdir(parents=True)
    board.write_text('#include "qemu/osdep.h"\n#include "cpu.h"\n#include "kvm_arm.h"\n'
                     "int width(void) { return WIDTH; }\n")
    gic = root / "hw" / "intc" / "gic_kvm.c"
    gic.parent.mkdir(parents=True)
    gic.write_text('#include "qemu/osdep.h"\n#include "kvm_arm.h"\nint width(void) { return WIDTH; }\n')
    results = {}
    for order in ((board, gic), (gic, board)):
        stubs = tmp_path / ("stubs-" + order[0].stem)
        pre = Preprocessor(QemuTree.open(root), stubs)
        stub = str(stubs / "arch-i386" / "kvm_arm.h")
        results[order[0].stem] = {src.stem: (out.target, f'"{stub}"' in out.text) for src in order
                                  for out in [pre.run(src)]}
        assert (stubs / "arch-i386" / "kvm_arm.h").exists() and not (stubs / "kvm_arm.h").exists()
    assert results["board"] == results["gic_kvm"] == {"board": ("i386", True),
                                                       "gic_kvm": ("arm", False)}
    # a stub of a target header left in the common folder (by an older
    # version, or damaged) is removed before anything is preprocessed
    (tmp_path / "stubs-board" / "kvm_arm.h").write_text("/* stale */\n")
    pre = Preprocessor(QemuTree.open(root), tmp_path / "stubs-board")
    assert not (tmp_path / "stubs-board" / "kvm_arm.h").exists()
    assert pre.run(gic).target == "arm"


def _runs(pre):
    """Count the preprocessor runs of ``pre``."""
    runs = []
    spawn = pre._spawn
    pre._spawn = lambda cmd: runs.append(cmd) or spawn(cmd)
    return runs


@pytest.mark.parametrize("name, text, predicted", [
    ("hw/i386/board.c", '#include "qemu/osdep.h"\n#include "cpu.h"\n', "i386"),
    ("hw/intc/gic_kvm.c", '#include "qemu/osdep.h"\n#include "kvm_arm.h"\n', "arm"),
    # the folder's architecture lacks the header: the target is the header's
    ("hw/misc/kvm_thing.c", '#include "qemu/osdep.h"\n#include "kvm_arm.h"\n', None),
    # under an #if, in a comment, in a string: not certain to be read
    ("hw/i386/cond.c", '#include "qemu/osdep.h"\n#ifdef CONFIG_KVM\n#include "cpu.h"\n#endif\n', None),
    ("hw/i386/comment.c", '#include "qemu/osdep.h"\n/*\n#include "cpu.h"\n*/\n', None),
    ("hw/i386/string.c", '#include "qemu/osdep.h"\nconst char *s = "/*";\n#include "cpu.h"\n//*/\n', "i386"),
    # a common file
    ("hw/i386/common.c", '#include "qemu/osdep.h"\nint width(void) { return 1; }\n', None),
])
def test_a_certain_per_target_file_skips_the_common_run(tmp_path, name, text, predicted):
    """A file that includes a target-only header outside any #if gets the
    same result without the common run that would stop there."""
    root = _target_tree(tmp_path)
    src = root / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(text + "int width(void) { return WIDTH; }\n")
    pre = Preprocessor(QemuTree.open(root), tmp_path / "stubs")
    assert pre.predicted_target(src) == predicted
    exact = Preprocessor(QemuTree.open(root), tmp_path / "stubs-exact")
    exact.predicted_target = lambda source: None
    runs, exact_runs = _runs(pre), _runs(exact)
    try:
        out = pre.run(src)
    except preprocess.PreprocessError as exc:
        with pytest.raises(preprocess.PreprocessError, match=re.escape(str(exc))):
            exact.run(src)
        return
    want = exact.run(src)
    assert (out.target, out.text.replace("stubs/", "stubs-exact/")) == (want.target, want.text)
    assert len(runs) == len(exact_runs) - (predicted is not None)


def test_a_prediction_that_met_another_target_header_first_is_not_used(tmp_path):
    """An i386 board whose first header asks for kvm_arm.h (only arm has
    it) before its own cpu.h: its common run stops at kvm_arm.h, which makes
    it an arm file; the i386 run predicted from cpu.h read a stub, so the
    prediction is dropped."""
    root = _target_tree(tmp_path)
    (root / "include" / "hw").mkdir(parents=True)
    (root / "include" / "hw" / "gic.h").write_text('#include "kvm_arm.h"\n')
    src = root / "hw" / "i386" / "board.c"
    src.parent.mkdir(parents=True)
    src.write_text('#include "qemu/osdep.h"\n#include "hw/gic.h"\n#include "cpu.h"\n'
                   "int width(void) { return WIDTH; }\n")
    pre = Preprocessor(QemuTree.open(root), tmp_path / "stubs")
    assert pre.predicted_target(src) == "i386"
    out = pre.run(src)
    assert out.target == "arm"
    assert (tmp_path / "stubs" / "arch-i386" / "kvm_arm.h").exists()   # the i386 run's


def test_generated_and_system_headers_are_stubbed_before_the_first_run(tmp_path):
    """trace/trace-<folder>.h named by a folder's trace.h, the QAPI headers
    of each schema and <...> names the tree does not have are stubbed when
    the stub folder is prepared: no run stops on them, and the output is
    the one stubs written on demand give."""
    root = _target_tree(tmp_path)
    (root / "qapi").mkdir()
    (root / "qapi" / "net.json").write_text("{ 'struct': 'NetThing', 'data': {} }\n")
    (root / "hw" / "net").mkdir(parents=True)
    (root / "hw" / "net" / "trace.h").write_text('#include "trace/trace-hw_net.h"\n')
    (root / "include" / "qemu" / "lib.h").write_text("#include <zlib.h>\n#include <stdint.h>\n")
    src = root / "hw" / "net" / "nic.c"
    src.write_text('#include "qemu/osdep.h"\n#include "qemu/lib.h"\n#include "qapi/qapi-types-net.h"\n'
                   '#include "trace.h"\nNetThing *thing;\n')
    pre = Preprocessor(QemuTree.open(root), tmp_path / "stubs")
    for name in ("trace/trace-hw_net.h", "qapi/qapi-types-net.h", "qapi/qapi-events-net.h",
                 "zlib.h", "stdint.h"):
        assert (tmp_path / "stubs" / name).is_file(), name
    assert not (tmp_path / "stubs" / "qemu" / "lib.h").exists()   # the tree has it
    runs = _runs(pre)
    out = pre.run(src)
    assert len(runs) == 1 and out.stubbed == []
    # the same text as stubs written on demand, one run per missing header
    lazy = tmp_path / "lazy"
    (lazy / ".generated-stubs-written").parent.mkdir(parents=True)
    (lazy / ".generated-stubs-written").write_text("")
    on_demand = Preprocessor(QemuTree.open(root), lazy)
    runs = _runs(on_demand)
    want = on_demand.run(src)
    assert len(runs) == 5 and sorted(want.stubbed) == ["qapi/qapi-types-net.h", "stdint.h",
                                                        "trace/trace-hw_net.h", "zlib.h"]
    assert out.text.replace("/stubs/", "/lazy/") == want.text


def test_cpu_h_in_a_board_folder_uses_that_folder_target_5_2_layout(tmp_path):
    root = _target_tree(tmp_path, "default-configs/targets")
    src = root / "hw" / "i386" / "board.c"
    src.parent.mkdir(parents=True)
    src.write_text('#include "qemu/osdep.h"\n#include "cpu.h"\nint width(void) { return WIDTH; }\n')
    out = Preprocessor(QemuTree.open(root), tmp_path / "stubs").run(src)
    assert out.target == "i386"
    assert re.search(r"return\s+\(\s*64\s*\+\s*1\s*\)", _code(out.text))


HELPER = QOM_HEAD + """
typedef struct ProxyTypeInfo { const char *base_name; const char *generic_name; const char *parent;
                               void (*instance_init)(Object *obj);
                               void (*class_init)(ObjectClass *klass, const void *data); } ProxyTypeInfo;
void proxy_types_register(const ProxyTypeInfo *t);
static void proxy_base_class_init(ObjectClass *klass, const void *data)
{
    const ProxyTypeInfo *t = data;
    if (t->class_init) {
        t->class_init(klass, NULL);
    }
}
void proxy_types_register(const ProxyTypeInfo *t)
{
    TypeInfo base_type_info = {
        .name = t->base_name,
        .parent = t->parent ? t->parent : TYPE_PCI_DEVICE,
        .instance_init = t->instance_init,
        .abstract = true,
    };
    TypeInfo generic_type_info = { .name = t->generic_name, .parent = base_type_info.name };
    base_type_info.class_init = proxy_base_class_init;
    base_type_info.class_data = t;
    type_register_static(&base_type_info);
    if (generic_type_info.name) {
        type_register_static(&generic_type_info);
    }
}
"""

USER = QOM_HEAD + """
typedef struct ProxyTypeInfo { const char *base_name; const char *generic_name; const char *parent;
                               void (*instance_init)(Object *obj);
                               void (*class_init)(ObjectClass *klass, const void *data); } ProxyTypeInfo;
void proxy_types_register(const ProxyTypeInfo *t);
static void net_proxy_realize(PCIDevice *dev, Error **errp) { }
static void net_proxy_init(Object *obj) { }
static void net_proxy_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = net_proxy_realize;
}
static const ProxyTypeInfo net_proxy_info = {
    .base_name = "net-proxy-base", .generic_name = "net-proxy",
    .instance_init = net_proxy_init, .class_init = net_proxy_class_init,
};
static void net_proxy_register(void)
{
    proxy_types_register(&net_proxy_info);
}
type_init(net_proxy_register)
"""


def test_types_a_registration_helper_builds_from_a_callers_struct(program_of):
    p = program_of({"hw/virtio/proxy.c": HELPER, "hw/virtio/net-proxy.c": USER})
    base, generic = p.types["net-proxy-base"], p.types["net-proxy"]
    assert (base.parent, base.record.abstract, generic.parent) == ("pci-device", True, "net-proxy-base")
    assert base.file == "hw/virtio/net-proxy.c"
    assert base.record.registered_by == "net_proxy_register: proxy_types_register(&net_proxy_info)"
    assert base.record.loc.line == _line(USER, "proxy_types_register(&net_proxy_info);")
    # the class_init the struct names runs from the helper's class_init
    assert _hooks(p, "net-proxy-base", "realize") == ["net_proxy_realize"]
    assert _hooks(p, "net-proxy", "realize") == ["net_proxy_realize"]
    assert _hooks(p, "net-proxy", "instance_init") == ["net_proxy_init"]
    assert generic.unpluggable


def test_a_type_the_helper_names_at_run_time_gives_its_parent_and_hooks(program_of):
    """An entry without base_name: the helper registers the base under a
    name made at run time (virtio_pci_types_register: "%s-base-type"),
    so the generic type, whose parent it is, takes the base's parent and
    instance_init: it is a PCI device (virtio-iommu-pci, virtio-sound-pci
    in QEMU 10.2)."""
    generic_only = USER.replace('.base_name = "net-proxy-base", ', "")
    p = program_of({"hw/virtio/proxy.c": HELPER, "hw/virtio/net-proxy.c": generic_only})
    assert "net-proxy-base" not in p.types
    generic = p.types["net-proxy"]
    assert generic.parent == "pci-device"
    assert _hooks(p, "net-proxy", "instance_init") == ["net_proxy_init"]
    assert _hooks(p, "net-proxy", "realize") == ["net_proxy_realize"]
    assert generic.unpluggable


SHARED_WALK = QOM_HEAD + """
static void helper(FooState *s) { memory_region_init(&s->io, OBJECT(s), "io", 4); }
static void base_init(Object *obj) { helper(FOO(obj)); helper(FOO(obj)); }
static void child_init(Object *obj) { helper(FOO(obj)); }
static const TypeInfo types[] = {
    { .name = "base", .parent = TYPE_PCI_DEVICE, .instance_init = base_init },
    { .name = "child-a", .parent = "base", .instance_init = child_init },
    { .name = "child-b", .parent = "base", .instance_init = child_init },
};
DEFINE_TYPES(types)
"""


def _fresh_events(program, name, phase):
    from lifecheck.graph import SELF, AccessPath
    out, stores = [], []
    dev = program.types[name]
    for ref in dev.hooks.get(phase, ()):
        program._walk(phase, ref.function, {0: AccessPath(SELF)}, (ref.function[1],), (), out, stores,
                      {ref.function}, ref.owner or dev.name)
    return out


def test_types_sharing_a_hook_share_its_walk_and_its_events(program_of, catalog, monkeypatch):
    import lifecheck.graph as graph
    p = program_of({"hw/misc/a.c": SHARED_WALK})
    a, b = (p.events(p.types[n], "instance_init") for n in ("child-a", "child-b"))
    assert [(e.site.callee, e.via[0]) for e in a] == [
        ("helper", "child_init"), ("memory_region_init", "child_init"),
        ("helper", "base_init"), ("memory_region_init", "base_init"),
        ("helper", "base_init"), ("memory_region_init", "base_init")]
    assert a == b == _fresh_events(p, "child-a", "instance_init")
    # the events as the walks they are made of, shared between the types
    sa, sb = (p.segments(p.types[n], "instance_init") for n in ("child-a", "child-b"))
    assert [e for seg in sa for e in seg] == a
    # (child_init is each child's own hook, bound by its TypeInfo; base_init
    # the one of base that both inherit)
    assert len(sa) == len(sb) == 2 and sa[0] is not sb[0]
    assert sa[1] is sb[1] is p.segments(p.types["base"], "instance_init")[0]
    # and so are their facts: the regions and API effects of a shared walk
    # are made once
    from lifecheck.facts import Facts
    facts = Facts(p, catalog.families.values(), catalog.tables)
    da, db = (facts.device(p.types[n]) for n in ("child-a", "child-b"))
    assert da._segments["instance_init"][1] is db._segments["instance_init"][1]
    assert da.ops["instance_init"] == [op for ev in a for op in facts.api.effects(ev)]
    assert [op.event.via[0] for op in db.ops["instance_init"]] == ["child_init", "base_init", "base_init"]
    assert set(da.regions) == {"self.io"}
    walks = {key[1][1] for key in p._walk_cache}
    assert {"base_init", "child_init"} <= walks
    # the cap on a phase's events counts the hooks walked before: a shared
    # walk that would cross it is walked again, and stops where it would
    monkeypatch.setattr(graph, "MAX_PHASE_EVENTS", len(_fresh_events(p, "base", "instance_init")) + 1)
    q = Program(p.units, catalog.tables)
    q.events(q.types["base"], "instance_init")
    capped = q.events(q.types["child-a"], "instance_init")
    assert capped == _fresh_events(q, "child-a", "instance_init")
    assert len(capped) < len(a)
    assert [e for seg in q.segments(q.types["child-a"], "instance_init") for e in seg] == capped


# -- gcc's preprocessor run without gcc ---------------------------------------

def test_cc1_run_directly_gives_what_gcc_gives(tmp_path):
    import os
    import subprocess
    from lifecheck.frontend.preprocess import Preprocessor
    pre = Preprocessor(QemuTree.open(EXAMPLES), tmp_path / "stubs")
    sources = sorted((EXAMPLES / "hw").rglob("*.c"))
    assert len(sources) >= 3
    for src in sources:
        cmd = pre.command(src)
        direct = pre._direct(cmd)
        assert os.path.basename(direct[0]) == "cc1" and str(src) in direct
        via_gcc = subprocess.run(cmd, capture_output=True, cwd=tmp_path)
        alone = subprocess.run(direct, capture_output=True, cwd=tmp_path)
        assert (alone.returncode, alone.stdout) == (via_gcc.returncode, via_gcc.stdout)
        assert via_gcc.stdout.count(b"\n") > 100
    # one question to gcc per set of arguments, not per file
    assert len(pre._cc1) == 1


def test_an_unexpected_answer_from_gcc_means_gcc_is_run(tmp_path):
    from lifecheck.frontend import preprocess
    fake = tmp_path / "gcc"
    answers = {
        "two commands": ' /usr/lib/gcc/cc1 -E -quiet x.c\\n /usr/bin/as -o x.o\\n',
        "not cc1": ' /usr/bin/cpp -E lifecheck-stand-in-source.c\\n',
        "no source": ' /usr/lib/gcc/cc1 -E -quiet -\\n',
        "relative cc1": ' cc1 -E lifecheck-stand-in-source.c\\n',
        "bad quoting": ' /usr/lib/gcc/cc1 -E "lifecheck-stand-in-source.c\\n',
    }
    for why, text in answers.items():
        fake.write_text(f'#!/bin/sh\nprintf \'{text}\' >&2\n')
        fake.chmod(0o755)
        assert preprocess._cc1_command([str(fake), "-E", "-w"]) is None, why
    fake.write_text('#!/bin/sh\nprintf \' /usr/lib/gcc/cc1 -E -quiet lifecheck-stand-in-source.c '
                    '-dumpbase lifecheck-stand-in-source.c -w\\n\' >&2\n')
    assert preprocess._cc1_command([str(fake), "-E"]) == (["/usr/lib/gcc/cc1", "-E", "-quiet",
                                                          "lifecheck-stand-in-source.c", "-w"], 3)
    fake.write_text("#!/bin/sh\nexit 1\n")
    assert preprocess._cc1_command([str(fake), "-E"]) is None
    pre = preprocess.Preprocessor(QemuTree.open(EXAMPLES), tmp_path / "stubs", cc="clang")
    cmd = pre.command(EXAMPLES / "hw" / "misc" / "pci-beacon.c")
    assert pre._direct(cmd) == cmd


# -- the QOM names are data (rules/tables/qom.toml) -----------------------------

import dataclasses  # noqa: E402

from lifecheck.frontend import data_files, qomtable  # noqa: E402
from lifecheck.frontend.unit import model_from_preprocessed  # noqa: E402

SETTERS = '''# 1 "/t/hw/a.c"
typedef struct ObjectClass ObjectClass;
typedef struct DeviceClass { void (*realize)(void); void (*legacy_reset)(void); } DeviceClass;
void device_class_set_parent_realize(DeviceClass *dc, void (*f)(void), void (**p)(void));
void vendor_class_set_reset(DeviceClass *dc, void (*f)(void));
static void r(void) { }
static void c_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = (DeviceClass *)klass;
    device_class_set_parent_realize(dc, r, 0);
    vendor_class_set_reset(dc, r);
}
'''


def _setter_bindings():
    unit = model_from_preprocessed("hw/a.c", Path("/t/hw/a.c"), SETTERS)
    return [(b.class_type, b.field, b.target, b.chained, b.loc.line) for b in unit.bindings]


def test_class_field_setters_come_from_the_qom_table(monkeypatch):
    assert _setter_bindings() == [("DeviceClass", "realize", "r", True, 9)]
    names = qomtable.qom_names()
    setter = qomtable.ClassFieldSetter("vendor_class_set_reset", "DeviceClass", "legacy_reset")
    monkeypatch.setattr(qomtable, "_NAMES", dataclasses.replace(
        names, setters=dict(names.setters, vendor_class_set_reset=setter)))
    assert _setter_bindings() == [("DeviceClass", "realize", "r", True, 9),
                                  ("DeviceClass", "legacy_reset", "r", False, 10)]


def test_data_files_are_the_prelude_and_the_qom_table():
    files = data_files()
    assert [f.name for f in files] == ["prelude.h", "qom.toml"]
    assert all(f.is_file() for f in files)
    assert files[1] == qomtable.table_path()
    names = qomtable.load(files[1])
    assert "object_dynamic_cast_assert" in names.transparent_calls
    assert names.setters["device_class_set_parent_unrealize"].chained
    assert names.type_info["class_init"] == "class_init"


@pytest.mark.parametrize("edit, key", [
    (lambda t: t.replace('register_calls = [', 'register_calls = [1,'), "register_calls"),
    (lambda t: t.replace('field = "realize"\n', 'feild = "realize"\n'), "class_field_setters[0].field"),
    (lambda t: t.replace('abstract = "abstract"', 'abstrct = "abstract"'), "type_info.abstract"),
    (lambda t: 'extra = 1\n' + t, "extra"),
])
def test_a_malformed_qom_table_names_the_file_and_the_key(tmp_path, edit, key):
    bad = tmp_path / "qom.toml"
    bad.write_text(edit(qomtable.table_path().read_text()))
    with pytest.raises(qomtable.QomTableError, match=re.escape(f"{bad}: key '{key}'")):
        qomtable.load(bad)


# -- type names an external library's header would have declared ---------------

from lifecheck.frontend import parse as parse_module  # noqa: E402
from lifecheck.frontend.guess import guess_type_names  # noqa: E402

# spice-server's header is not in the tree: the preprocessor stubbed it, so
# QXLRect, QXLPHYSICAL and QXLCommandExt reach the parser as plain names
SPICE = '''# 1 "/t/include/qemu/typedefs.h"
typedef struct FooState FooState;
typedef unsigned long uint64_t;
# 1 "/t/hw/display/foo.c"
void *g_malloc0_n(unsigned long n, unsigned long size);
void foo_blit(FooState *s, QXLRect *rect);
void qemu_bh_schedule(void *bh);
static void foo_render(FooState *s, QXLPHYSICAL addr, QXLCommandExt *ext)
{
    QXLRect *rect = (QXLRect *)ext;
    QXLPHYSICAL *cmds = (QXLPHYSICAL *)g_malloc0_n(4, sizeof(QXLPHYSICAL));
    foo_blit(s, rect);
    qemu_bh_schedule(cmds);
}
static int foo_plain(FooState *s)
{
    return 0;
}
static void foo_again(FooState *s, QXLRect *r)
{
    foo_blit(s, r);
}
'''


def _unit_of(text, name="hw/display/foo.c"):
    return model_from_preprocessed(name, Path("/t/" + name), text)


def _calls(unit, fn):
    return [c.callee for c in unit.functions[fn].calls]


def test_a_function_using_types_of_a_stubbed_header_was_lost_without_the_guess(monkeypatch):
    monkeypatch.setattr(parse_module.ResultBuilder, "_parse_guessing", lambda self, chunk, text: None)
    unit = _unit_of(SPICE)
    assert sorted(unit.functions) == ["foo_plain"]
    assert [(lost.name, lost.line, lost.static) for lost in unit.lost_functions] == [
        ("foo_render", 4, True), ("foo_again", 15, True)]
    assert unit.stats.functions_guessed == 0


def test_a_function_using_types_of_a_stubbed_header_is_parsed_with_them_as_type_names():
    unit = _unit_of(SPICE)
    assert sorted(unit.functions) == ["foo_again", "foo_plain", "foo_render"]
    assert _calls(unit, "foo_render") == ["g_malloc0_n", "foo_blit", "qemu_bh_schedule"]
    assert [p.name for p in unit.functions["foo_render"].params] == ["s", "addr", "ext"]
    assert unit.lost_functions == []
    assert (unit.stats.functions_found, unit.stats.functions_recovered, unit.stats.functions_guessed) == (3, 3, 2)
    # each function that needed a guess says which names it took as types;
    # a guess holds for its function only, the next one guesses again
    guesses = [(n.line, n.message) for n in unit.notices if n.kind == "guess"]
    assert guesses == [
        (2, "declaration of foo_blit parsed by taking QXLRect as a type name declared by no header in the tree"),
        (4, "function foo_render() parsed by taking QXLPHYSICAL, QXLCommandExt, QXLRect as type names "
            "declared by no header in the tree"),
        (15, "function foo_again() parsed by taking QXLRect as a type name declared by no header in the tree"),
    ]
    assert not [n for n in unit.notices if n.kind == "parse"]


def test_a_file_that_parses_never_guesses(monkeypatch):
    def fail(*args):
        raise AssertionError("guessed although everything parsed")
    monkeypatch.setattr(parse_module, "guess_type_names", fail)
    unit = _unit_of(PRE, "hw/a.c")
    assert unit.stats.functions_recovered == 2


@pytest.mark.parametrize("code, scope, expected", [
    # two names in a row, a pointer declaration, casts, parameters
    ("void f(void) { Foo x; }", {}, ["Foo"]),
    ("void f(void) { int n = 0; Foo *p = 0; }", {}, ["Foo"]),
    ("void f(void) { for (Foo *p = 0; p; p++) { } }", {}, ["Foo"]),
    ("void f(void *v) { g((const Foo **)v); }", {}, ["Foo"]),
    ("int f(void *v) { return (Foo) v; }", {}, ["Foo"]),
    ("void f(S *s) { s->cmd = (Foo) { .n = 1 }; if (x) { } }", {"S": True}, ["Foo"]),
    ("static Foo *f(Bar *b, int n, Baz *) { }", {}, ["Foo", "Bar", "Baz"]),
    ("static vfu_ctx_t\nf(void) { }", {}, ["vfu_ctx_t"]),
    ("struct S { Foo *a; Bar b : 3; };", {}, ["Foo", "Bar"]),
    # a multiplication, a call's argument, a condition, a tag, a field
    ("void f(int y) { x * y; }", {}, []),
    ("void f(int b) { g(a * b, c); }", {}, []),
    ("void f(int y) { if (x) y = 1; while (x) y++; }", {}, []),
    ("void f(void) { struct Foo *p; enum Bar b; }", {}, []),
    ("void f(S *s) { s->Foo * 2; s.x = (s->n) * 3; }", {"S": True}, []),
    ("static int tab[] = { a * b, c };", {}, []),
    # names known, or used, as something else than a type
    ("void f(void) { count * total; Foo *p; }", {"count": False}, ["Foo"]),
    ("void f(void) { count *p; }", {"count": False}, []),
    ("void f(int count) { g(count); count *p; }", {}, []),
    ("void f(void) { Foo *p; Foo = 3; }", {}, []),
    ("void f(void) { Foo *p; Foo(p); }", {}, []),
    ("void f(void) { Foo *p; Foo->x = 1; }", {}, []),
    ("void f(void) { int Foo; Foo *p; }", {}, []),
    ("void f(void) { Known *p; }", {"Known": True}, []),
    ("void f(void) { __Foo *p; _Bar q; }", {}, []),
    ('void f(void) { g("Foo *p;"); }', {}, []),
])
def test_type_names_are_guessed_only_where_nothing_else_can_stand(code, scope, expected):
    assert guess_type_names(code, scope) == expected


def test_a_name_the_file_declares_as_a_variable_is_not_guessed():
    text = ('# 1 "/t/hw/a.c"\n'
            'int count;\n'
            'int f(int n)\n'
            '{\n'
            '    count *n;\n'            # an expression, whatever else fails
            '    return 1 +;\n'
            '}\n'
            'int g(Foo *p) { return count * 2; }\n')
    unit = _unit_of(text, "hw/a.c")
    assert [(lost.name, lost.line) for lost in unit.lost_functions] == [("f", 2)]
    assert [n.message for n in unit.notices if n.kind == "guess"] == [
        "function g() parsed by taking Foo as a type name declared by no header in the tree"]
    assert _calls(unit, "g") == []


def test_a_typedef_parsed_with_a_guess_stays_declared():
    text = ('# 1 "/t/hw/a.c"\n'
            'typedef struct Bar { Foo *f; } Bar;\n'
            'int g(Bar *b) { return 0; }\n')
    unit = _unit_of(text, "hw/a.c")
    assert list(unit.functions) == ["g"]
    assert [n.message for n in unit.notices] == [
        "declaration of Bar parsed by taking Foo as a type name declared by no header in the tree"]


MISREAD = '''# 1 "/t/hw/a.c"
typedef struct S { int ring; } S;
void use(void *p);
int f(S *s, int n)
{
    QXLRing *ring = (void *)&s->ring;
    QXLRing *other;
    use(ring);
    n * 2;
    return n;
}
'''


@pytest.mark.skipif(not parse_module._NEW_PARSER, reason="pycparser 2 (PLY) does not say what it misread")
def test_a_declaration_read_as_a_product_is_parsed_again_with_the_type_guessed(monkeypatch):
    # "QXLRing *ring = ...;" parses as an assignment to a product, and
    # "QXLRing *other;" as a product thrown away: both declarations lost
    with monkeypatch.context() as m:
        m.setattr(parse_module.ResultBuilder, "_parse_guessing", lambda self, chunk, text: None)
        unit = _unit_of(MISREAD, "hw/a.c")
    assert sorted(unit.functions["f"].locals) == []
    unit = _unit_of(MISREAD, "hw/a.c")
    assert sorted(unit.functions["f"].locals) == ["other", "ring"]
    assert [(n.line, n.message) for n in unit.notices] == [
        (3, "function f() parsed by taking QXLRing as a type name declared by no header in the tree")]
    assert unit.stats.functions_guessed == 1


# macros of headers the tree does not have, where no C allows a name
MACROS = '''# 1 "/t/hw/a.c"
typedef struct S { int n; } S;
void report(const char *fmt, ...);
int first(S *s);
int next(S *s, int o);
static void LIBUSB_CALL
complete(S *s)
{
    report("done %"PRI_xen_pfn" at %d\\n", s->n, 'x');
}
static int walk(S *s)
{
    int o;
    fdt_for_each_property_offset(o, s, first(s)) {
        report("%d", o);
    }
    return 0;
}
'''


def test_string_calling_convention_and_loop_macros_of_stubbed_headers_are_rewritten():
    unit = _unit_of(MACROS, "hw/a.c")
    assert unit.lost_functions == []
    assert _calls(unit, "complete") == ["report"]
    assert [c.loc.line for c in unit.functions["complete"].calls] == [8]
    assert _calls(unit, "walk") == ["fdt_for_each_property_offset", "first", "report"]
    assert [c.loc.line for c in unit.functions["walk"].calls] == [13, 13, 14]


@pytest.mark.parametrize("text, expected", [
    ('f("a %"FMT" b", x);', 'f("a %"""" b", x);'),
    ('f("hello", \'"\', "a" "b", "x y " z);', 'f("hello", \'"\', "a" "b", "x y " z);'),
    ('f("a \\" b" c "d");', 'f("a \\" b" "" "d");'),
])
def test_a_name_between_two_strings_is_a_string_macro(text, expected):
    rewrite = dict((name, (pattern, repl)) for name, pattern, repl in parse_module._REWRITES)["string macro"]
    assert rewrite[0].sub(rewrite[1], text) == expected


LOCAL_CYCLE = '''# 1 "/t/hw/display/foo.c"
typedef struct N { struct N *next; int a; int b; } N;
void use(int *p);
void f(N *head)
{
    N *x, *y;
    x = y->next;
    y = x;
    use(&y->a);
    use(&x->b);
    use(&x->a);
}
'''


def test_a_local_names_the_same_path_wherever_it_is_first_resolved():
    # resolving y follows x while y is being resolved, where x names
    # y->next; x alone names x->next: what a local names while another is
    # being resolved is not what it names alone (Scope.resolved keeps only
    # the latter)
    unit = _unit_of(LOCAL_CYCLE)
    args = [c.args[0].path.key() for c in unit.functions["f"].calls]
    assert args == ["local:y.next.a", "local:x.next.b", "local:x.next.a"]
