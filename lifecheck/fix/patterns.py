"""How ``lifecheck fix`` fixes each shape of finding (``explain`` prints it)."""

FIX_PATTERNS = {
    "missing-release": (
        "`lifecheck fix` adds the release call of the resource's API family (the usual one "
        "first; never a release that frees its argument for a struct the device embeds) to the "
        "device's own hook of the first phase that must release it: after the hook's releases of "
        "the same family, before its releases that free memory (unmap and unregister before "
        "freeing), else at the end.  When the device has no such hook it creates one (the function "
        "after the realize or instance_init hook, bound by `k->exit = ...` / `dc->unrealize = ...` "
        "beside the realize binding, or `.instance_finalize = ...` in the TypeInfo).  For "
        "instance_init acquisitions the release goes to instance_finalize.  The entries of a list "
        "(`s->list.lh_first`) are freed in a loop, as the tree frees lists (QLIST_FOREACH_SAFE, "
        "QLIST_REMOVE, g_free; the link field from the code that fills the list).  A result the "
        "device's teardown forgets while it releases the same call's other results gets their "
        "release, after theirs.  A heap object only a local keeps (`g_new(MemoryRegion, 1)`) "
        "becomes a member of its owner's state struct and the function uses `&s->member`.  A request "
        "handed to a backend (rng_backend_request_entropy()) is cancelled first thing in unrealize by "
        "the cancel rules/tables/fixes.toml `request_cancels` gives, with the request's handle, "
        "completion and opaque; a request whose cancel needs a value the call does not name (the "
        "BlockBackend of a dma_blk_io()) gets no fix.  A strong link a QOM child holds back to the "
        "device (strong-link-to-parent) is cleared at the end of unrealize: the setter again with "
        "NULL (and &error_abort), after unrealizing the child when the device realized it "
        "(rules/tables/fixes.toml `link_breaks`, as QEMU 10.0.13's usb_xhci_pci_exit()).  A "
        "handle the device drops (qemu_add_vm_change_state_handler()'s result) is kept in a new "
        "member of the state struct and released in the hook.  A new unrealize of a device whose "
        "realize is chained with device_class_set_parent_realize() is bound with "
        "device_class_set_parent_unrealize() and calls the parent's unrealize last."),
    "error-exit-leak": (
        "`lifecheck fix` releases the resource right before the error exit's `return`, at its "
        "indentation, in reverse acquisition order when several are released there; an exit under "
        "a cleanup label gets the release in that label's code.  An exit whose siblings release the "
        "value gets their release statement.  A local object the function does not hand on at the "
        "exit is released there; unparented first when a call before the exit made it a child "
        "(`qdev_realize(dev, bus, errp)`)."),
    "misplaced-release": (
        "`lifecheck fix` moves the call to the hook of the phase where it belongs (creating the "
        "hook when the device has none): memory reclaimed in unrealize goes to instance_finalize, "
        "a subregion deleted in instance_finalize goes to unrealize.  object_unparent() of a region "
        "in instance_finalize (or one that would land there) is dropped: the region dies with its "
        "owner."),
    "second-release": "`lifecheck fix` drops the second release.",
    "wrong-owner": (
        "`lifecheck fix` passes the device as the region's owner: the owner argument of the "
        "memory_region_init*() call (the family's `owner` index in rules/api) becomes the device's "
        "object as the function writes it (`OBJECT(s)` it already passes, an `Object *obj` parameter "
        "that is the device, else `OBJECT(s)` of the variable the region is a field of)."),
    "use-after-release": (
        "`lifecheck fix` drops the use when it is a disarm of the very resource released "
        "(`timer_del()` after `timer_free()`).  A field read after the call that wipes its struct "
        "(`g_free(s->dev.vqs)` after `vhost_dev_cleanup(&s->dev)`) is read into a local before the "
        "call and the use takes the local (freeing it before the cleanup would free what the "
        "cleanup still uses).  Other uses of freed memory need the teardown reordered by hand."),
}

CHECKED = ("A fix is offered only when, applied to a scratch copy, the file still preprocesses "
           "and parses, the finding is gone and no new finding appears; otherwise the finding "
           "says `fix: none (why)`.")
