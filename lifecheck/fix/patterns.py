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
        "instance_init acquisitions the release goes to instance_finalize."),
    "error-exit-leak": (
        "`lifecheck fix` releases the resource right before the error exit's `return`, at its "
        "indentation, in reverse acquisition order when several are released there; an exit under "
        "a cleanup label gets the release in that label's code."),
    "misplaced-release": (
        "`lifecheck fix` moves the call to the hook of the phase where it belongs (creating the "
        "hook when the device has none): memory reclaimed in unrealize goes to instance_finalize, "
        "a subregion deleted in instance_finalize goes to unrealize.  object_unparent() of a region "
        "in instance_finalize (or one that would land there) is dropped: the region dies with its "
        "owner."),
    "second-release": "`lifecheck fix` drops the second release.",
    "use-after-release": (
        "`lifecheck fix` drops the use when it is a disarm of the very resource released "
        "(`timer_del()` after `timer_free()`); any other use (a release of something inside it, "
        "`g_free(s->dev.vqs)` after `vhost_dev_cleanup(&s->dev)`) needs the teardown reordered by hand."),
}

CHECKED = ("A fix is offered only when, applied to a scratch copy, the file still preprocesses "
           "and parses, the finding is gone and no new finding appears; otherwise the finding "
           "says `fix: none (why)`.")
