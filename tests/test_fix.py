"""Checked fixes (lifecheck/fix/): every fix proposed on examples/ is
applied and the tree checked again; hook creation, cleanup-label reuse;
the ``fix`` command's --diff, --apply and --format patch; SARIF fixes."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from lifecheck.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES, root)
    return root


def _identities(root: Path, paths=("hw",)):
    out = root / "check.json"
    main(["check", "-q", "--show-all", "--no-cache", "-j", "1", "--format", "json", "-o", str(out), "--root", str(root)]
         + [str(root / p) for p in paths])
    data = json.loads(out.read_text())
    out.unlink()
    return [(f["rule"], f["file"], f["function"], f["resource"]) for f in data["findings"]], data["findings"]


def _fix_json(root: Path, *extra):
    out = root.parent / "fix.json"
    assert main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--format", "json", "-o", str(out), "--root", str(root)]
                + list(extra) + [str(root / "hw")]) == 0
    return json.loads(out.read_text())


def test_every_fix_on_the_examples_passes_a_new_check(tmp_path):
    """Apply every offered fix at once (--apply), check the tree again:
    each fixed finding is gone and no finding appears that was not there."""
    root = _copy(tmp_path)
    before, _ = _identities(root)
    rows = _fix_json(root)
    fixed = [r for r in rows if r["fix"]]
    assert len(fixed) >= 0.7 * len(rows), [(r["rule"], r["none"]) for r in rows if not r["fix"]]
    for r in rows:
        assert r["fix"] or r["none"], r     # a fix, or why there is none
    assert main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--apply", "--root", str(root), str(root / "hw")]) == 0
    after, _ = _identities(root)
    fixed_keys = {(r["rule"], r["file"], r["resource"]) for r in fixed if r["with_others"]}
    assert len(fixed_keys) >= len(fixed) - 2
    for key in after:
        assert key in before, f"new finding after the fixes: {key}"
        assert (key[0], key[1], key[3]) not in fixed_keys, f"finding still there after its fix: {key}"


def test_the_diff_applies_with_git(tmp_path):
    root = _copy(tmp_path)
    diff = tmp_path / "fix.diff"
    assert main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--diff", "-o", str(diff), "--root", str(root),
                 str(root / "hw")]) == 0
    text = diff.read_text()
    assert text.startswith("diff --git a/hw/")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "apply", "--check", str(diff)], check=True)


def test_patches_are_commit_style(tmp_path):
    root = _copy(tmp_path)
    out = tmp_path / "patches"
    assert main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--format", "patch", "-o", str(out),
                 "--signoff", "Ada Lovelace <ada@example.org>", "--root", str(root), str(root / "hw")]) == 0
    patches = sorted(out.glob("*.patch"))
    assert patches
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for p in patches:
        text = p.read_text()
        subject = next(line for line in text.splitlines() if line.startswith("Subject: "))
        assert subject.startswith("Subject: [PATCH] hw/"), subject
        assert "\nSigned-off-by: Ada Lovelace <ada@example.org>\n" in text
        assert "Found by lifecheck, rule " in text
        subprocess.run(["git", "-C", str(root), "apply", "--check", str(p)], check=True)


def test_a_missing_unrealize_hook_is_created(tmp_path):
    """tick-counter has no unrealize: the fix creates one after realize and
    binds it beside the realize binding."""
    root = _copy(tmp_path)
    src = root / "hw/timer/tick-counter.c"
    # only the missing unrealize (the finalize's late deletion is another finding)
    src.write_text("".join(line for line in src.read_text().splitlines(keepends=True)
                           if "expect[del-subregion-in-finalize]" not in line))
    diff = tmp_path / "fix.diff"
    main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", "subregion-not-deleted", "-o", str(diff),
          "--root", str(root), str(root / "hw/timer/tick-counter.c")])
    text = diff.read_text()
    assert "+static void tick_counter_unrealize(DeviceState *dev)\n+{\n" \
           "+    TickCounterState *s = TICK_COUNTER(dev);\n+\n" \
           "+    memory_region_del_subregion(get_system_io(), &s->latch);\n+}\n" in text
    assert "+    dc->unrealize = tick_counter_unrealize;\n" in text


def test_a_missing_instance_finalize_is_created_and_bound_in_the_typeinfo(tmp_path):
    root = _copy(tmp_path)
    diff = tmp_path / "fix.diff"
    main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "-o", str(diff), "--root", str(root),
          str(root / "hw/misc/pci-ringbuf.c")])
    text = diff.read_text()
    assert "+static void pci_ringbuf_finalize(Object *obj)\n" in text
    assert "+    .instance_finalize = pci_ringbuf_finalize,\n" in text
    assert "-    g_free(s->ring); /* lifecheck: expect[freed-in-unrealize] */\n" in text


def test_an_error_exit_reuses_the_cleanup_label(tmp_path):
    root = _copy(tmp_path)
    src = root / "hw/misc/pci-watchdog.c"
    text = src.read_text()
    old = ("    if (!pci_watchdog_check_config(s, errp)) {\n        return;\n    }\n")
    assert old in text
    text = text.replace(old, "    if (!pci_watchdog_check_config(s, errp)) {\n        goto fail;\n    }\n")
    text = text.replace("    s->irq = pci_allocate_irq(pdev);                /* lifecheck: expect[leak-on-unrealize] */\n}\n",
                        "    s->irq = pci_allocate_irq(pdev);\n    return;\n\nfail:\n    g_free(s->stats);\n}\n")
    src.write_text(text)
    diff = tmp_path / "fix.diff"
    main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", "realize-error-leak", "-o", str(diff),
          "--root", str(root), str(src)])
    assert " fail:\n+    timer_free(s->bark);\n     g_free(s->stats);\n" in diff.read_text()


def test_an_error_exit_release_goes_before_the_return(tmp_path):
    root = _copy(tmp_path)
    diff = tmp_path / "fix.diff"
    main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", "realize-error-leak", "-o", str(diff),
          "--root", str(root), str(root / "hw/misc/pci-watchdog.c")])
    assert "     if (!pci_watchdog_check_config(s, errp)) {\n+        timer_free(s->bark);\n         return;\n" \
        in diff.read_text()


def test_no_fix_says_why(tmp_path, capsys):
    root = _copy(tmp_path)
    rows = _fix_json(root, "--rule", "unowned-region-unparent")
    region = [r for r in rows if r["resource"] == "self.alarm_window"]
    assert region and region[0]["fix"] is None and "has no owner" in region[0]["none"]


def test_release_argument_written_as_the_acquiring_call_writes_it(tmp_path):
    """vmstate_register(VMSTATE_IF(s), ...): the model sees the macro's
    expansion; the release takes the call's own source text."""
    root = _copy(tmp_path)
    rows = _fix_json(root, "--rule", "init-leak")
    vm = [r for r in rows if r["resource"] == "vmstate_sensor_hub"]
    assert vm and vm[0]["fix"] == \
        "add vmstate_unregister(VMSTATE_IF(s), &vmstate_sensor_hub, s); to sensor_hub_finalize() (instance_finalize)"


def test_check_fixes_text_hint_and_sarif(tmp_path, capsys):
    root = _copy(tmp_path)
    main(["check", "-q", "--no-cache", "-j", "1", "--fixes", "--root", str(root), str(root / "hw/misc")])
    out = capsys.readouterr().out
    assert "\n    fix: add qemu_free_irq(s->irq); to pci_watchdog_exit() (unrealize)\n" in out
    assert "\n    fix: none (" in out
    sarif = tmp_path / "out.sarif"
    main(["check", "-q", "--no-cache", "-j", "1", "--fixes", "--format", "sarif", "-o", str(sarif),
          "--root", str(root), str(root / "hw/misc")])
    doc = json.loads(sarif.read_text())
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    fixes = [r["fixes"] for r in doc["runs"][0]["results"] if "fixes" in r]
    assert fixes
    change = fixes[0][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert change["replacements"][0]["deletedRegion"]["startLine"] >= 1


def test_explain_shows_the_fix_pattern(capsys):
    main(["explain", "leak-on-unrealize"])
    out = capsys.readouterr().out
    assert "\nFix\n" in out and "creates one" in out


def test_an_error_exit_gets_a_new_label_when_earlier_paths_share_the_old_one(tmp_path):
    """A goto before the acquisition reaches 'fail' too: the release gets a
    label of its own before 'fail', and only the gotos after the
    acquisition go there."""
    root = _copy(tmp_path)
    src = root / "hw/misc/pci-watchdog.c"
    text = src.read_text()
    text = text.replace("    s->stats = g_new0(uint64_t, s->nr_stats + 1);   /* lifecheck: ok[leak-on-unrealize] */\n",
                        "    s->stats = g_new0(uint64_t, s->nr_stats + 1);\n"
                        "    if (s->nr_stats > 64) {\n        error_setg(errp, \"too many\");\n        goto fail;\n    }\n")
    text = text.replace("    if (!pci_watchdog_check_config(s, errp)) {\n        return;\n    }\n",
                        "    if (!pci_watchdog_check_config(s, errp)) {\n        goto fail;\n    }\n")
    text = text.replace("    s->irq = pci_allocate_irq(pdev);                /* lifecheck: expect[leak-on-unrealize] */\n}\n",
                        "    s->irq = pci_allocate_irq(pdev);\n    return;\n\nfail:\n    g_free(s->stats);\n}\n")
    src.write_text(text)
    diff = tmp_path / "fix.diff"
    main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", "realize-error-leak", "-o", str(diff),
          "--root", str(root), str(src)])
    out = diff.read_text()
    assert "-        goto fail;\n+        goto err_bark;\n" in out
    assert "+err_bark:\n+    timer_free(s->bark);\n fail:\n" in out
    assert out.count("goto err_bark;") == 1


def _fix_and_recheck(tmp_path, rel, rule):
    """The diff ``lifecheck fix`` offers for ``rule`` on examples' ``rel``,
    after checking that applying it (--apply) removes the finding and adds
    none."""
    return _fix_and_recheck_in(_copy(tmp_path), rel, rule)


def _fix_and_recheck_in(root: Path, rel: str, rule: str) -> str:
    """``_fix_and_recheck`` on a copy of the examples already prepared
    (a file edited first)."""
    before, _ = _identities(root, (rel,))
    assert any(k[0] == rule for k in before), before
    diff = root.parent / "fix.diff"
    assert main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", rule, "-o", str(diff),
                 "--root", str(root), str(root / rel)]) == 0
    assert main(["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", rule, "--apply",
                 "--root", str(root), str(root / rel)]) == 0
    after, _ = _identities(root, (rel,))
    assert not any(k[0] == rule for k in after), after
    assert set(after) <= set(before), set(after) - set(before)
    return diff.read_text()


def test_list_entries_are_freed_in_a_loop(tmp_path):
    """leak-on-unrealize of a QLIST's entries: a new exit hook walks the
    list with QLIST_FOREACH_SAFE, unlinks and frees each entry; the link
    field and the entry type come from the code that fills the list."""
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-keystore.c", "leak-on-unrealize")
    assert "+static void pci_keystore_exit(PCIDevice *pdev)\n+{\n" \
           "+    PCIKeystoreState *s = PCI_KEYSTORE(pdev);\n" \
           "+    struct KeystoreEntry *e, *next;\n+\n" \
           "+    QLIST_FOREACH_SAFE(e, &s->keys, node, next) {\n" \
           "+        QLIST_REMOVE(e, node);\n+        g_free(e);\n+    }\n+}\n" in text
    assert "+    k->exit = pci_keystore_exit;\n" in text
    fixed = (EXAMPLES / "hw/misc/pci-keystore-fixed.c").read_text()
    assert "QLIST_FOREACH_SAFE(e, &s->keys, node, next) {" in fixed


def test_a_local_object_is_unparented_and_unreffed_on_the_error_exit(tmp_path):
    """qdev_new() into a local, qdev_realize() on a bus fails: the bus
    holds it as a child, so the error exit unparents it, then drops the
    creation reference (OBJECT() where the prototype takes an Object *)."""
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-twin.c", "realize-error-leak")
    assert "     if (!qdev_realize(dev, qdev_get_parent_bus(DEVICE(pdev)), errp)) {\n" \
           "+        object_unparent(OBJECT(dev));\n+        object_unref(dev);\n" \
           "         return NULL;\n" in text


def test_a_release_argument_the_acquisition_lacks_comes_from_the_table(tmp_path):
    """register_savevm_live() has no object: unregister_savevm()'s is NULL
    (rules/tables/fixes.toml), the id is the call's own TYPE_ macro."""
    text = _fix_and_recheck(tmp_path, "hw/misc/dirty-log.c", "init-leak")
    assert "+static void dirty_log_finalize(Object *obj)\n+{\n+    DirtyLogState *s = DIRTY_LOG(obj);\n+\n" \
           "+    unregister_savevm(NULL, TYPE_DIRTY_LOG, s);\n+}\n" in text
    assert "+    .instance_finalize = dirty_log_finalize,\n" in text


def test_a_field_read_after_a_wipe_is_saved_before_it(tmp_path):
    """g_free(s->vhost_dev.vqs) after vhost_dev_cleanup() zeroed it: the
    pointer is read into a local (its type from the struct definition)
    before the cleanup, and the local is freed."""
    text = _fix_and_recheck(tmp_path, "hw/virtio/vhost-lite.c", "use-after-release")
    assert "     VHostLite *s = VHOST_LITE(dev);\n+    struct vhost_virtqueue *vqs = s->vhost_dev.vqs;\n \n" \
           "     vhost_dev_cleanup(&s->vhost_dev);\n" in text
    assert "-    g_free(s->vhost_dev.vqs); /* lifecheck: expect[use-after-release] */\n" \
           "+    g_free(vqs); /* lifecheck: expect[use-after-release] */\n" in text


def test_a_deviant_error_exit_gets_the_release_of_its_siblings(tmp_path):
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-dma-rings.c", "deviant-error-exit")
    assert "         dma_ring_free(scratch);\n+        g_free(image);\n         return false;\n" in text


def test_a_deviant_teardown_gets_the_release_of_the_other_results(tmp_path):
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-dma-rings.c", "deviant-teardown")
    assert "     dma_ring_free(s->tx);\n+    dma_ring_free(s->ev);\n }\n" in text


def test_a_heap_region_only_a_local_keeps_is_embedded(tmp_path):
    """g_new(MemoryRegion, 1) into a local: the region becomes a member of
    the device state (struct in the same file), the local's declaration
    and allocation go, its uses take &s->low."""
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-aperture.c", "heap-region-leak")
    assert "     MemoryRegion high;          /* embedded: fine */\n+    MemoryRegion low;\n" in text
    assert "-    MemoryRegion *low;\n" in text
    assert "-    low = g_new(MemoryRegion, 1); /* lifecheck: expect[heap-region-leak] */\n" in text
    assert '+    memory_region_init_io(&s->low, OBJECT(s), &aperture_ops, s, "pci-aperture.low", 4 * KiB);\n' in text
    assert "+    memory_region_add_subregion(&s->bar, 0, &s->low);\n" in text


def test_a_region_owned_by_another_object_gets_the_device_as_owner(tmp_path):
    """region-owner-not-device: the owner argument of memory_region_init_*()
    (NULL, qdev_get_machine()) becomes the device, written as the function
    writes it (OBJECT(s) beside the region's own &s->...)."""
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-owner.c", "region-owner-not-device")
    assert '-    memory_region_init_io(&s->status, NULL, &owner_ops, s, "pci-owner.status", 4 * KiB);' in text
    assert '+    memory_region_init_io(&s->status, OBJECT(s), &owner_ops, s, "pci-owner.status", 4 * KiB);' in text
    assert '-    memory_region_init_ram(&s->window, qdev_get_machine(), "pci-owner.window", 64 * KiB, errp);' in text
    assert '+    memory_region_init_ram(&s->window, OBJECT(s), "pci-owner.window", 64 * KiB, errp);' in text
    # the regions owned by the device or its embedded child are left alone
    assert "OBJECT(&s->intc)" not in "".join(l for l in text.splitlines() if l[:1] in "+-")
    fixed = (EXAMPLES / "hw/misc/pci-owner-fixed.c").read_text()
    assert "memory_region_init_ram(&s->window, OBJECT(s), \"pci-owner.window\"" in fixed


def test_a_pending_request_is_cancelled_first_in_unrealize(tmp_path):
    """request-not-cancelled: the cancel of the registering call
    (fixes.toml request_cancels: rng_backend_cancel_requests with the
    request's handle, completion and opaque, as the virtqueue handler
    writes them) goes first in unrealize, after its declarations."""
    text = _fix_and_recheck(tmp_path, "hw/virtio/virtio-entropy.c", "request-not-cancelled")
    assert "     VirtIOEntropy *s = VIRTIO_ENTROPY(dev);\n \n" \
           "+    rng_backend_cancel_requests(s->rng, virtio_entropy_receive, s);\n+\n" \
           "     virtio_delete_queue(s->vq);\n" in text
    fixed = (EXAMPLES / "hw/virtio/virtio-entropy-fixed.c").read_text()
    assert "    rng_backend_cancel_requests(s->rng, virtio_entropy_receive, s);\n" in fixed


def test_a_oneshot_bh_gets_a_reference_for_the_request(tmp_path):
    """request-not-cancelled of a one-shot BH (fixes.toml
    request_references): nothing can cancel it, so the fix holds a
    reference on the device for it -- object_ref() of the opaque as the
    handler writes it, just before the call; object_unref() of the BH's
    opaque parameter at the end of the BH."""
    text = _fix_and_recheck(tmp_path, "hw/virtio/virtio-resizer.c", "request-not-cancelled")
    assert "     virtio_notify_config(vdev);\n+    object_unref(opaque);\n }\n" in text
    assert "     s->size += 4096;\n+    object_ref(vdev);\n" \
           "     aio_bh_schedule_oneshot(qemu_get_aio_context(), virtio_resizer_config_bh, vdev);" in text


def test_a_request_without_a_known_cancel_gets_no_fix(tmp_path):
    """A request whose registering call has no request_cancels entry (a
    block read: blk_drain() needs the BlockBackend it went to) keeps
    'fix: none' with the reason."""
    from lifecheck.fix.propose import NoFix, Proposer
    import types
    prop = Proposer.__new__(Proposer)
    reg = types.SimpleNamespace(call="blk_aio_preadv", name="foo_read_done", parent=None, loc=None)
    prop.facts = types.SimpleNamespace(
        reach=types.SimpleNamespace(registering={"blk_aio_preadv": object()}, cutoffs={}), tables={"fixes": {}})
    prop.program = types.SimpleNamespace(types={"foo": object()})
    prop._request_of = lambda f: reg
    f = types.SimpleNamespace(device="foo")
    with pytest.raises(NoFix, match="no cancel of one blk_aio_preadv"):
        prop._cancel_request(f)


def test_a_request_cancel_creates_unrealize_when_missing(tmp_path):
    """The same device without an unrealize: the cancel goes into a new
    hook bound beside the realize binding."""
    root = _copy(tmp_path)
    src = root / "hw/virtio/virtio-entropy.c"
    text = src.read_text()
    start = text.index("static void virtio_entropy_unrealize(DeviceState *dev)")
    text = text[:start] + text[text.index("static void virtio_entropy_class_init"):]
    text = text.replace("    vdc->unrealize = virtio_entropy_unrealize;\n", "")
    src.write_text(text)
    before, _ = _identities(root, ("hw/virtio/virtio-entropy.c",))
    assert any(k[0] == "request-not-cancelled" for k in before), before
    diff = tmp_path / "fix.diff"
    args = ["fix", "--show-all", "-q", "--no-cache", "-j", "1", "--rule", "request-not-cancelled",
            "--root", str(root), str(src)]
    assert main(args[:-1] + ["-o", str(diff), str(src)]) == 0
    assert main(args[:-1] + ["--apply", str(src)]) == 0
    after, _ = _identities(root, ("hw/virtio/virtio-entropy.c",))
    assert not any(k[0] == "request-not-cancelled" for k in after), after
    assert set(after) <= set(before)
    out = diff.read_text()
    assert "+static void virtio_entropy_unrealize(DeviceState *dev)\n+{\n" \
           "+    VirtIOEntropy *s = VIRTIO_ENTROPY(dev);\n+\n" \
           "+    rng_backend_cancel_requests(s->rng, virtio_entropy_receive, s);\n+}\n" in out, out
    assert "+    vdc->unrealize = virtio_entropy_unrealize;\n" in out


def test_a_cancel_the_tree_does_not_declare_is_not_written(tmp_path):
    """A tree whose backend has no cancel yet (QEMU 10.2.2 lacks
    rng_backend_cancel_requests(), 10.0.13 adds it): the call would not
    build, so no fix, and the reason says so."""
    root = _copy(tmp_path)
    hdr = root / "include/system/rng.h"
    text = hdr.read_text()
    start = text.index("void rng_backend_cancel_requests(")
    hdr.write_text(text[:start] + text[text.index(";", start) + 1:])
    rows = _fix_json(root, "--rule", "request-not-cancelled")
    row = next(r for r in rows if r["file"] == "hw/virtio/virtio-entropy.c")
    assert not row["fix"]
    assert "rng_backend_cancel_requests() is not declared in this tree's headers" in row["none"], row


def test_a_strong_link_back_to_the_device_is_cleared_in_unrealize(tmp_path):
    """strong-link-to-parent: the child's link is set back to NULL at the
    end of exit (the setter's own arguments, &error_abort as the file
    includes qapi/error.h), after unrealizing the child the device
    realized itself (a realized device's qdev link cannot be set), as
    QEMU 10.0.13's usb_xhci_pci_exit() does; the device state is declared
    in the hook that had none."""
    text = _fix_and_recheck(tmp_path, "hw/usb/pci-hostctl.c", "strong-link-to-parent")
    assert "+    PCIHostctlState *s = PCI_HOSTCTL(pdev);\n" in text, text
    assert "+    qdev_unrealize(DEVICE(&s->core));\n" \
           "+    object_property_set_link(OBJECT(&s->core), \"host\", NULL, &error_abort);\n" in text, text
    # the weak "monitor" link is left alone
    assert '"monitor", NULL' not in text
    fixed = (EXAMPLES / "hw/usb/pci-hostctl-fixed.c").read_text()
    assert "    qdev_unrealize(DEVICE(&s->core));\n" \
           "    object_property_set_link(OBJECT(&s->core), \"host\", NULL, &error_abort);\n" in fixed


def test_a_strong_link_gets_a_new_unrealize_when_missing(tmp_path):
    """The same device without exit: the hook is created and bound beside
    the realize binding; without qapi/error.h the setter's own error
    argument is kept."""
    root = _copy(tmp_path)
    src = root / "hw/usb/pci-hostctl.c"
    text = src.read_text()
    start = text.index("static void pci_hostctl_exit(PCIDevice *pdev)")
    text = text[:start] + text[text.index("static void pci_hostctl_class_init"):]
    text = text.replace("    k->exit = pci_hostctl_exit;\n", "")
    text = text.replace('#include "qapi/error.h"\n', "")
    src.write_text(text)
    out = _fix_and_recheck_in(root, "hw/usb/pci-hostctl.c", "strong-link-to-parent")
    assert "+static void pci_hostctl_exit(PCIDevice *pdev)\n+{\n" \
           "+    PCIHostctlState *s = PCI_HOSTCTL(pdev);\n+\n" \
           "+    qdev_unrealize(DEVICE(&s->core));\n" \
           "+    object_property_set_link(OBJECT(&s->core), \"host\", NULL, NULL);\n+}\n" in out, out
    assert "+    k->exit = pci_hostctl_exit;\n" in out


def test_a_strong_qdev_link_of_a_child_realized_elsewhere_gets_no_fix(tmp_path):
    """A child device the device does not realize itself: its qdev link
    cannot be cleared while it is realized (and &error_abort would abort
    the unplug), so no fix, and the reason says so."""
    root = _copy(tmp_path)
    src = root / "hw/usb/pci-hostctl.c"
    text = src.read_text()
    text = text.replace("    if (!qdev_realize(DEVICE(&s->core), NULL, errp)) {\n        return;\n    }\n", "")
    src.write_text(text)
    rows = _fix_json(root, "--rule", "strong-link-to-parent")
    row = next(r for r in rows if r["file"] == "hw/usb/pci-hostctl.c")
    assert not row["fix"]
    assert "does not realize itself" in row["none"], row


def _uart_lite_pc_without_unrealize(root: Path, finalize_body: str = "") -> Path:
    """examples' uart-lite.c with uart-lite-pc's unrealize taken out (its
    realize stays chained with device_class_set_parent_realize()); with
    ``finalize_body``, an instance_finalize of uart-lite-pc holding it."""
    src = root / "hw/char/uart-lite.c"
    text = src.read_text()
    start = text.index("static void uart_lite_pc_unrealize(DeviceState *dev)")
    end = text.index("static const Property uart_lite_pc_properties")
    fin = ""
    if finalize_body:
        fin = ("static void uart_lite_pc_finalize(Object *obj)\n{\n"
               "    UartLitePCState *pc = UART_LITE_PC(obj);\n\n" + finalize_body + "}\n\n")
    text = text[:start] + fin + text[end:]
    text = text.replace(" * Fix: in uart_lite_pc_unrealize(), add", " * Fix: in unrealize, add")
    text = text.replace("    device_class_set_parent_unrealize(dc, uart_lite_pc_unrealize, &k->parent_unrealize);\n", "")
    if finalize_body:
        text = text.replace("        .class_size    = sizeof(UartLitePCClass),\n",
                            "        .class_size    = sizeof(UartLitePCClass),\n"
                            "        .instance_finalize = uart_lite_pc_finalize,\n")
    src.write_text(text)
    return src


def test_a_subregion_deleted_in_finalize_moves_to_a_new_chained_unrealize(tmp_path):
    """del-subregion-in-finalize in a device whose realize chains its
    parent's (device_class_set_parent_realize()) and that has no unrealize
    of its own: the call moves to a new unrealize bound with
    device_class_set_parent_unrealize(), which declares the class as
    realize does and calls the parent's unrealize last."""
    root = _copy(tmp_path)
    _uart_lite_pc_without_unrealize(
        root, "    memory_region_del_subregion(get_system_io(), &pc->legacy_io);\n")
    out = _fix_and_recheck_in(root, "hw/char/uart-lite.c", "del-subregion-in-finalize")
    assert "+static void uart_lite_pc_unrealize(DeviceState *dev)\n+{\n" \
           "+    UartLitePCClass *k = UART_LITE_PC_GET_CLASS(dev);\n" \
           "+    UartLitePCState *pc = UART_LITE_PC(dev);\n+\n" \
           "+    memory_region_del_subregion(get_system_io(), &pc->legacy_io);\n" \
           "+    k->parent_unrealize(dev);\n+}\n" in out, out
    assert "+    device_class_set_parent_unrealize(dc, uart_lite_pc_unrealize, &k->parent_unrealize);\n" in out
    assert "-    memory_region_del_subregion(get_system_io(), &pc->legacy_io);\n" in out
    # what the original example's unrealize is
    orig = (EXAMPLES / "hw/char/uart-lite.c").read_text()
    assert "    memory_region_del_subregion(get_system_io(), &pc->legacy_io);\n    k->parent_unrealize(dev);\n" in orig


def test_a_missing_release_gets_a_new_chained_unrealize(tmp_path):
    """The same chaining for a missing release (subregion-not-deleted):
    the new unrealize calls the parent's after the release."""
    root = _copy(tmp_path)
    _uart_lite_pc_without_unrealize(root)
    out = _fix_and_recheck_in(root, "hw/char/uart-lite.c", "subregion-not-deleted")
    assert "+    device_class_set_parent_unrealize(dc, uart_lite_pc_unrealize, &k->parent_unrealize);\n" in out, out
    assert out.count("+    k->parent_unrealize(dev);\n") == 1, out
    assert "+    memory_region_del_subregion(get_system_io(), &pc->legacy_io);\n" in out, out


def test_a_dropped_handle_is_kept_in_the_device_state_and_released(tmp_path):
    """leak-on-unrealize of a handle the device drops
    (qemu_add_vm_change_state_handler()'s result): a member of the state
    struct keeps it (its type the prototype's return type, its name from
    rules/tables/fixes.toml handle_members), the call stores into it, and
    exit removes the handler with the family's release."""
    text = _fix_and_recheck(tmp_path, "hw/misc/pci-vmwatch.c", "leak-on-unrealize")
    assert "     bool running;\n+    VMChangeStateEntry *vmstate;\n };\n" in text, text
    assert "-    qemu_add_vm_change_state_handler(pci_vmwatch_vm_state, s);" in text
    assert "+    s->vmstate = qemu_add_vm_change_state_handler(pci_vmwatch_vm_state, s); " \
           "/* lifecheck: expect[leak-on-unrealize] */\n" in text, text
    assert "     timer_free(s->poll);\n+    qemu_del_vm_change_state_handler(s->vmstate);\n" in text, text
    fixed = (EXAMPLES / "hw/misc/pci-vmwatch-fixed.c").read_text()
    assert "    s->vmstate = qemu_add_vm_change_state_handler(pci_vmwatch_fixed_vm_state, s);\n" in fixed
    assert "    timer_free(s->poll);\n    qemu_del_vm_change_state_handler(s->vmstate);\n" in fixed


def test_an_error_kept_as_a_blocker_is_released_by_the_blocker_release(tmp_path):
    """pci-fence: error_setg(&s->blocker, ...) then migrate_add_blocker():
    since 8.2 migrate_del_blocker(&s->blocker) both unregisters the
    blocker and frees the Error, so it is the fix of both findings (an
    error_free() alone would leave the blocker list pointing at freed
    memory); applied together they make one call."""
    diff = _fix_and_recheck(tmp_path, "hw/misc/pci-fence.c", "realize-error-leak")
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert [a.strip() for a in added] == ["+        migrate_del_blocker(&s->blocker);".strip()]
    assert "error_free" not in diff
