"""The ``lifecheck`` command line: it parses arguments into a ``Request``
(session.py), runs it and renders the result; the tree, the configuration
and what is done to findings are decided elsewhere (session.py,
pipeline.py)."""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from pathlib import Path
from typing import List, Optional

from . import __version__, activity
from .facts.mining import MIN_CONFIDENCE, MIN_SITES, MIN_SUPPORT
from .findings import LOST_HOOK_FUNCTION, lost_reached_from_hooks
from .limits import DEFAULT_FILE_TIMEOUT, DEFAULT_MAX_FILE_SIZE, DEFAULT_WORKER_MEMORY, MB, Limits
from .pipeline import SHOW_ALL_FLAG, FindingsRequest, UsageError
from .session import USER_ERRORS, Request, Session

FORMATS = ("text", "json", "sarif", "gitlab", "github")
DEBUG_VARIABLE = "LIFECHECK_DEBUG"   # set to 1: an internal error also prints its traceback


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lifecheck",
                                description="Find QOM device lifetime bugs in a QEMU source tree.")
    p.add_argument("--version", action="version", version=f"lifecheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("check", help="check files or folders of a QEMU tree")
    _tree_options(c)
    _rule_options(c)
    _verbosity_options(c)
    _limit_options(c)
    c.add_argument("--format", choices=FORMATS, default="text")
    c.add_argument("--output", "-o", help="write the report to FILE instead of standard output")
    c.add_argument("--fail-on", choices=("error", "warning", "note"), default=None,
                   help="lowest severity that makes the exit status 1 (default: the config's, else error)")
    c.add_argument("--stats", action="store_true",
                   help="print parse coverage on stderr: files, functions found and recovered, why functions "
                        "were lost, how many were recovered by guessing type names, how many lost ones a "
                        "lifecycle hook reaches")
    c.add_argument("--report", action="append", default=[], metavar="FORMAT:FILE",
                   help="also write the report in FORMAT to FILE, from the same run (repeatable)")
    _filter_options(c)

    c.add_argument("--fixes", action="store_true",
                   help="also compute a checked fix for each finding (slower): a 'fix:' line under each "
                        "finding in text output, 'fixes' in SARIF")

    x = sub.add_parser("fix", help="propose checked fixes: print a diff, apply it, or write patches",
                       description="Compute, for each finding 'lifecheck check' reports with the same "
                                   "options and lifecheck.toml, the edit that fixes it; a fix is offered "
                                   "only when, applied to a scratch copy, the file still parses, the "
                                   "finding is gone and no new finding appears.")
    _tree_options(x, paths_help="files or folders to fix (default: .)")
    _rule_options(x)
    _verbosity_options(x)
    _limit_options(x)
    x.add_argument("--rule", action="append", default=[], metavar="SLUG",
                   help="fix only the findings of this rule (repeatable)")
    x.add_argument("--min-severity", choices=("note", "warning", "error"), default="note",
                   help="fix only findings at or above this severity (default: all)")
    mode = x.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true",
                      help="print the fixes as a unified diff that 'git apply' takes (the default)")
    mode.add_argument("--apply", action="store_true", help="apply the fixes to the files in place")
    x.add_argument("--format", choices=("diff", "patch", "json"), default="diff",
                   help="diff: a unified diff on standard output; patch: one commit-style patch per "
                        "finding in the folder -o names (for git am); json: what was found for "
                        "each finding")
    x.add_argument("--output", "-o", help="patch: the folder to write to; diff, json: a file")
    x.add_argument("--signoff", metavar="'NAME <EMAIL>'",
                   help="the Signed-off-by of --format patch (default: git config user.name and "
                        "user.email of the tree, else a placeholder to replace)")
    x.add_argument("--baseline", metavar="FILE", help="fix only findings not in FILE")
    x.add_argument("--no-baseline", action="store_true", help="ignore the config's baseline")
    x.add_argument(SHOW_ALL_FLAG, action="store_true", default=None, dest="show_all",
                   help="also fix findings that hold only in principle (what 'check --show-all' shows)")
    x.add_argument("--since", metavar="REV",
                   help="fix only findings on lines or functions changed since git revision REV "
                        "(what 'check --diff REV' reports)")

    b = sub.add_parser("baseline", help="write the current findings to FILE, to be hidden by --baseline FILE")
    b.add_argument("file", metavar="FILE", help="the baseline file to write (JSON)")
    _tree_options(b)
    _rule_options(b)
    _verbosity_options(b)
    _limit_options(b)

    e = sub.add_parser("explain", help="print a rule's documentation")
    e.add_argument("slug", nargs="?", help="rule slug, consequence, or 'consequences' (all of them); "
                                            "without it, list the rules and consequences")

    g = sub.add_parser("graph", help="draw device lifecycles (DOT, Mermaid or SVG)",
                       description="Draw the lifecycle of device types defined in PATHs: the hooks "
                                   "of each phase, who runs them, the helpers they call, each "
                                   "acquire/release call, and the findings 'lifecheck check' "
                                   "reports with the same options and lifecheck.toml.")
    _tree_options(g, paths_help="files or folders to analyse (default: .); add the files of parent "
                                "types (e.g. hw/pci/pci.c) to see inherited hooks")
    g.add_argument("--type", "-t", action="append", dest="types", metavar="QOM-TYPE",
                   help="draw this QOM type (its TypeInfo name, e.g. e1000; repeatable; "
                        "default: every type with a lifecycle hook in PATHs)")
    g.add_argument("--format", choices=("dot", "mermaid", "svg"), default="dot",
                   help="dot (Graphviz), mermaid (a flowchart), svg (runs Graphviz's dot)")
    g.add_argument("--output", "-o", help="write the graph to FILE instead of standard output")
    _rule_options(g)
    g.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing but the graph and errors (no progress line, no notices)")
    _limit_options(g)
    _filter_options(g)

    a = sub.add_parser("api", help="work with the acquire/release API table (rules/api)")
    api_sub = a.add_subparsers(dest="api_command", metavar="API-COMMAND")
    api_sub.required = True
    m = api_sub.add_parser(
        "mine", help="learn acquire/release pairs from how the tree's devices use them",
        description="Find candidate acquire/release pairs in PATHs (functions whose names pair up, "
                    "e.g. fifo8_create/fifo8_destroy, called on the same resource in realize or "
                    "instance_init and in unrealize or instance_finalize), rank them by support and "
                    "confidence, and write the new ones as rules/api families marked mined = true "
                    "(--format toml). See docs/api-families.md.")
    _tree_options(m, paths_help="files or folders to learn from (default: .; e.g. hw/)")
    m.add_argument("--config", metavar="FILE",
                   help="settings file (default: lifecheck.toml or .lifecheck.toml at the tree root)")
    m.add_argument("--rules-dir", action="append", default=[], metavar="DIR",
                   help="extra rules folder: its api/ families count as known")
    m.add_argument("--format", choices=("text", "markdown", "json", "toml"), default="text",
                   help="text (a ranked table), markdown, json, or toml (the new pairs that pass the "
                        "thresholds, as rules/api families)")
    m.add_argument("--output", "-o", help="write to FILE instead of standard output")
    m.add_argument("--min-support", type=int, default=MIN_SUPPORT, metavar="N",
                   help=f"list and write pairs that at least N device types use (default: {MIN_SUPPORT})")
    m.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE, metavar="C",
                   help="write pairs that at least this share of those types release "
                        f"(default: {MIN_CONFIDENCE:g})")
    m.add_argument("--min-sites", type=int, default=MIN_SITES, metavar="N",
                   help="write pairs acquired at N or more places in the code (types that share a hook "
                        f"are one place; default: {MIN_SITES})")
    m.add_argument("--top", type=int, default=0, metavar="N", help="list only the first N pairs (default: all)")
    m.add_argument("--examples", type=int, default=3, metavar="N",
                   help="following and deviating sites shown per pair (default: 3)")
    m.add_argument("-q", "--quiet", action="store_true", help="no progress line, no summary on stderr")
    _limit_options(m)
    return p


# Option groups shared by the commands that analyse a tree (check, baseline,
# graph), so that the same words mean the same thing everywhere.

def _tree_options(c: argparse.ArgumentParser,
                  paths_help: str = "files or folders to check (default: .)") -> None:
    c.add_argument("paths", nargs="*", default=["."], metavar="PATH", help=paths_help)
    c.add_argument("--root", help="the QEMU tree root (default: found by walking up from PATH)")
    c.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="parallel workers (default: number of CPUs)")


def _rule_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("--select", action="append", metavar="SLUG",
                   help="run only this rule (repeatable)")
    c.add_argument("--ignore", action="append", default=[], metavar="SLUG",
                   help="do not run this rule (repeatable)")
    c.add_argument("--config", metavar="FILE",
                   help="settings file (default: lifecheck.toml or .lifecheck.toml at the tree root)")
    c.add_argument("--rules-dir", action="append", default=[], metavar="DIR",
                   help="extra rules folder (rule files, api/, tables/) added to the bundled one")


def _verbosity_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("-v", "--verbose", action="store_true",
                   help="also print notices (what could not be analysed) and a summary")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing but findings")


def _limit_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("--file-timeout", type=float, default=DEFAULT_FILE_TIMEOUT, metavar="SECONDS",
                   help="time allowed for one file; a file that takes longer is a notice "
                        f"(default: {DEFAULT_FILE_TIMEOUT:g}; 0: no limit)")
    c.add_argument("--max-file-size", type=float, default=DEFAULT_MAX_FILE_SIZE / MB, metavar="MB",
                   help="skip, with a notice, source files larger than this "
                        f"(default: {DEFAULT_MAX_FILE_SIZE // MB}; 0: no limit)")
    c.add_argument("--max-memory", type=float, default=DEFAULT_WORKER_MEMORY / MB, metavar="MB",
                   help="address space of each worker process; a file that needs more is a notice "
                        f"(default: {DEFAULT_WORKER_MEMORY // MB}; 0: no limit)")
    c.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the unit cache ($LIFECHECK_CACHE_DIR, else "
                        "$XDG_CACHE_HOME/lifecheck, else ~/.cache/lifecheck)")
    c.add_argument("--clear-cache", action="store_true",
                   help="empty the unit cache before analysing")


def _filter_options(c: argparse.ArgumentParser) -> None:
    c.add_argument(SHOW_ALL_FLAG, action="store_true", default=None, dest="show_all",
                   help="also report findings that hold only in principle (a leak in a device that is "
                        "never unplugged, a failed realize that ends QEMU): hidden by default and counted "
                        "in the summary (config: show-all = true)")
    c.add_argument("--baseline", metavar="FILE",
                   help="report only findings not in FILE (see 'lifecheck baseline'); default: the config's")
    c.add_argument("--no-baseline", action="store_true", help="ignore the config's baseline")
    c.add_argument("--diff", metavar="REV",
                   help="report only findings on lines or functions changed since git revision REV")


def _die(message: str) -> int:
    print(f"lifecheck: error: {message}", file=sys.stderr)
    return 2


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        # a file name or message that the terminal cannot show is escaped,
        # never a crash half-way through the report
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    activity.doing(f"starting 'lifecheck {args.command}'")
    try:
        if args.command == "explain":
            return _explain(args)
        if args.command == "graph":
            return _graph(args)
        if args.command == "baseline":
            return _baseline(args)
        if args.command == "api":
            return _api_mine(args)
        if args.command == "fix":
            return _fix(args)
        return _check(args)
    except USER_ERRORS as exc:
        return _die(str(exc))
    except KeyboardInterrupt:
        return _die("interrupted")
    except BrokenPipeError:
        # the reader went away (``lifecheck check hw/ | head``): not a bug;
        # say nothing more on a pipe nobody reads, and stop as the Python
        # documentation advises (the "Note on SIGPIPE" of the signal module)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug in lifecheck: exit 2 ("internal failure"), never 1 ("findings")
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    """Name the exception and what was being done when it escaped (the
    phase, and the file when one was being worked on); the traceback only
    when LIFECHECK_DEBUG is set."""
    if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    message = " ".join(str(exc).split())
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    where = activity.describe()
    print(f"lifecheck: internal error: {what}" + (f" ({where})" if where else ""), file=sys.stderr)
    return 2


def entry() -> None:
    """The ``lifecheck`` command (and ``python -m lifecheck``): ``main``,
    then leave without tearing the interpreter down.  A run over a whole
    tree ends holding millions of objects, some of them in reference
    cycles; freeing them one by one at exit took about 7 s after a run over
    all of QEMU's hw/, for nothing.  Output is flushed first; files the run
    wrote are closed by then."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more to say
            pass
    os._exit(code)


def _explain(args) -> int:
    from . import suppress
    from .explain import render
    from .rules.catalog import load_catalog
    catalog = load_catalog()
    rules = dict(catalog.rules)
    rules[suppress.UNUSED] = suppress.UNUSED_RULE
    from .findings import CONSEQUENCES
    from .explain import render_consequence
    if not args.slug:
        for slug, spec in sorted(rules.items()):
            print(f"{slug:28} {spec.summary}")
        print("\nConsequences ('lifecheck explain CONSEQUENCE'):")
        for slug, c in CONSEQUENCES.items():
            print(f"{slug:36} {c.title}, {c.when} ({c.severity})")
        return 0
    if args.slug == "consequences":
        sys.stdout.write("\n".join(render_consequence(slug) for slug in CONSEQUENCES))
        return 0
    if args.slug in CONSEQUENCES:
        sys.stdout.write(render_consequence(args.slug))
        return 0
    spec = rules.get(args.slug)
    if spec is None:
        return _die(f"no rule '{args.slug}' (see 'lifecheck explain' for the list)")
    text = render(spec)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _request(args) -> Request:
    """The command line's arguments as a ``Request``."""
    if args.jobs < 1:
        raise UsageError("-j must be at least 1")
    if min(args.file_timeout, args.max_file_size, args.max_memory) < 0:
        raise UsageError("--file-timeout, --max-file-size and --max-memory must not be negative")
    # every file is analysed in a worker process, even with -j 1, so that the
    # limits hold and a file that kills its worker costs only that file
    limits = Limits(file_timeout=args.file_timeout, max_file_size=int(args.max_file_size * MB),
                    worker_memory=int(args.max_memory * MB), isolate=True)
    baseline = getattr(args, "baseline", None)
    findings = FindingsRequest(select=tuple(getattr(args, "select", None) or ()),
                               ignore=tuple(getattr(args, "ignore", ())),
                               baseline=Path(baseline) if baseline else None,
                               no_baseline=getattr(args, "no_baseline", False),
                               diff=_diff_rev(args), fail_on=getattr(args, "fail_on", None),
                               show_all=getattr(args, "show_all", None))
    return Request(paths=tuple(Path(p) for p in args.paths), root=Path(args.root) if args.root else None,
                   jobs=args.jobs, limits=limits, config=Path(args.config) if args.config else None,
                   rules_dirs=tuple(Path(d) for d in args.rules_dir), findings=findings,
                   use_cache=not args.no_cache, clear_cache=args.clear_cache)


def _run(session: Session, quiet: bool, need_program: bool = False):
    """``session.run``, with a progress line on a terminal."""
    return _with_progress(quiet, lambda progress: session.run(progress=progress, need_program=need_program))


def _with_progress(quiet: bool, work):
    """``work(progress)``, with a progress line on a terminal."""
    progress = None
    if not quiet and _is_terminal(sys.stderr):
        from .progress import ProgressBar
        progress = ProgressBar(sys.stderr)
    try:
        return work(progress)
    finally:
        if progress is not None:
            progress.close()


def _reporter(fmt: str):
    from .report import github, gitlab, json_format, sarif, text
    return {"text": text, "json": json_format, "sarif": sarif, "gitlab": gitlab, "github": github}[fmt]


def _write(report, fmt: str, target: Optional[str], verbose: bool) -> None:
    reporter = _reporter(fmt)
    out = _open_output(target) if target else sys.stdout
    activity.doing(f"writing the {fmt} report" + (f" to {target}" if target else ""))
    try:
        if fmt in ("text", "github"):
            reporter.report(report, out, verbose=verbose)
        else:
            reporter.report(report, out)
    finally:
        if target:
            out.close()


def _open_output(target: str):
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        return open(target, "w", encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None


def _parse_reports(specs: List[str]) -> List[tuple]:
    out = []
    for spec in specs:
        fmt, sep, target = spec.partition(":")
        if not sep or not target or fmt not in FORMATS:
            raise UsageError(f"--report {spec}: expected FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}")
        out.append((fmt, target))
    return out


def _check(args) -> int:
    extra = _parse_reports(args.report)
    session = Session.open(_request(args))
    result = _run(session, args.quiet, need_program=args.fixes)
    report = result.report
    if args.fixes and result.program is not None:
        from .fix import recheck
        report.fixes = _with_progress(args.quiet, lambda progress: recheck.fixes_for(
            session.tree, session.catalog, result.program, report.findings, session.pipeline.selected,
            progress))
    _write(report, args.format, args.output, verbose=args.verbose and not args.quiet)
    for fmt, target in extra:
        _write(report, fmt, target, verbose=False)
    if not args.quiet and not (args.verbose and args.format in ("text", "github") and not args.output):
        _print_lost_hook_functions(report)
    if args.stats:
        _print_stats(report)
    if report.baseline is not None and not args.quiet:
        _print_baseline(report.baseline, args.verbose)
    if not args.quiet:
        from .report import text
        print(f"lifecheck: {text.closing(report, SHOW_ALL_FLAG)}", file=sys.stderr)
    if result.internal:
        print("lifecheck: internal error while analysing some files (see the notices with -v)",
              file=sys.stderr)
        return 2
    return 1 if session.pipeline.fails(report) else 0


def _fix(args) -> int:
    from .findings import severity_rank
    from .fix import recheck
    from .fix.edits import PLACEHOLDER_SIGNOFF, patch_text
    if args.format == "patch" and not args.output:
        raise UsageError("--format patch needs -o DIR, the folder to write the patches to")
    if args.apply and args.format != "diff":
        raise UsageError("--apply writes the files; it takes no --format")
    session = Session.open(_request(args))
    unknown = set(args.rule) - set(session.catalog.rules)
    if unknown:
        raise UsageError(f"unknown rule(s): {', '.join(sorted(unknown))}")
    result = _run(session, args.quiet, need_program=True)
    report = result.report
    floor = severity_rank(args.min_severity)
    wanted = [f for f in report.findings if (not args.rule or f.rule in args.rule)
              and severity_rank(f.severity) >= floor and f.shape]
    tree = session.tree
    fixes = _with_progress(args.quiet, lambda progress: recheck.fixes_for(
        tree, session.catalog, result.program, wanted, session.pipeline.selected, progress))
    good = [fixes[f.fingerprint].fix for f in wanted if fixes[f.fingerprint].fix is not None]
    texts = recheck.source_texts(tree, fixes)
    if args.format == "json":
        import json
        together = {fix.fingerprint for fix, _ in recheck.combined(texts, good)[0]}
        rows = [{"rule": f.rule, "severity": f.severity, "file": f.loc.file, "line": f.loc.line,
                 "resource": f.resource, "device": f.device, "fingerprint": f.fingerprint,
                 "fix": fixes[f.fingerprint].fix.description if fixes[f.fingerprint].fix else None,
                 "none": fixes[f.fingerprint].none or None, "tried": fixes[f.fingerprint].tried,
                 "failed": list(fixes[f.fingerprint].failed),
                 # applied by --apply (a fix that clashes with an earlier one is left out)
                 "with_others": f.fingerprint in together} for f in wanted]
        out = _open_output(args.output) if args.output else sys.stdout
        out.write(json.dumps(rows, indent=1) + "\n")
        if out is not sys.stdout:
            out.close()
    elif args.format == "patch":
        folder = Path(args.output)
        folder.mkdir(parents=True, exist_ok=True)
        signoff = args.signoff or _git_identity(tree.root) or PLACEHOLDER_SIGNOFF
        from .fix.edits import diff_of
        n = 0
        for fix in good:
            n += 1
            diff = diff_of(texts, fix.ops)
            name = "".join(c if c.isalnum() else "-" for c in fix.subject).strip("-")
            while "--" in name:
                name = name.replace("--", "-")
            path = folder / f"{n:04d}-{name[:52].rstrip('-')}.patch"
            path.write_text(patch_text(fix, diff, signoff), encoding="utf-8")
        if not args.quiet:
            print(f"lifecheck: wrote {n} patch{'es' if n != 1 else ''} to {folder}", file=sys.stderr)
    else:
        applied, new_texts = recheck.combined(texts, good)
        if args.apply:
            for rel, text in sorted(new_texts.items()):
                (tree.root / rel).write_text(text, encoding="utf-8", errors="surrogateescape")
            if not args.quiet:
                print(f"lifecheck: applied {len(applied)} fix{'es' if len(applied) != 1 else ''} "
                      f"to {len(new_texts)} file{'s' if len(new_texts) != 1 else ''}", file=sys.stderr)
        else:
            out = _open_output(args.output) if args.output else sys.stdout
            for fix, diff in applied:
                out.write(diff)
            if out is not sys.stdout:
                out.close()
    if not args.quiet:
        for f in wanted:
            r = fixes[f.fingerprint]
            if r.fix is None:
                print(f"lifecheck: {f.loc.file}:{f.loc.line}: [{f.rule}] {f.resource}: fix: none ({r.none})",
                      file=sys.stderr)
        print(f"lifecheck: {len(good)} of {len(wanted)} finding{'s' if len(wanted) != 1 else ''} "
              f"have a checked fix", file=sys.stderr)
    return 2 if result.internal else 0


def _diff_rev(args) -> Optional[str]:
    """The revision of ``check --diff REV`` (``fix --since REV``: there
    ``--diff`` asks for a diff)."""
    rev = getattr(args, "diff", None)
    return rev if isinstance(rev, str) else getattr(args, "since", None)


def _git_identity(root: Path) -> str:
    """``Name <email>`` from git config in the tree, "" when not set."""
    import subprocess
    try:
        name = subprocess.run(["git", "-C", str(root), "config", "user.name"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        mail = subprocess.run(["git", "-C", str(root), "config", "user.email"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{name} <{mail}>" if name and mail else ""


def _baseline(args) -> int:
    from . import baseline as baseline_file
    # no baseline filter here: the file is rewritten from what check would
    # report without one; hiding what the old file knows would drop those
    # findings from the new file, and a first baseline has no file to read
    # and every finding, those that hold only in principle too: the
    # baseline then also hides them under --show-all
    request = _request(args)
    request = dataclasses.replace(request, findings=dataclasses.replace(request.findings, show_all=True))
    session = Session.open(request, use_baseline=False)
    result = _run(session, args.quiet)
    activity.doing(f"writing the baseline {args.file}")
    count = baseline_file.write(result.report, Path(args.file))
    if not args.quiet:
        print(f"lifecheck: wrote {count} finding{'' if count == 1 else 's'} to {args.file}; "
              f"'lifecheck check --baseline {args.file}' now reports only new ones", file=sys.stderr)
    if result.internal:
        print("lifecheck: internal error while analysing some files (see the notices with -v)",
              file=sys.stderr)
        return 2
    return 0


def _print_baseline(info: dict, verbose: bool) -> None:
    stale = info["stale"]
    line = f"lifecheck: baseline {info['path']}: {info['matched']} known finding(s) hidden"
    if stale:
        line += (f"; {len(stale)} entr{'y is' if len(stale) == 1 else 'ies are'} stale (fixed, or the code "
                 f"moved): refresh with 'lifecheck baseline {info['path']} ...'")
    print(line, file=sys.stderr)
    if verbose:
        for e in stale:
            print(f"lifecheck:   stale: {e.get('file')}: [{e.get('rule')}] {e.get('resource')} in "
                  f"{e.get('function')} (was line {e.get('line')})", file=sys.stderr)


def _graph(args) -> int:
    from .lifegraph import UnknownTypeError, build, select_types
    from .report import dot, mermaid

    session = Session.open(_request(args))
    if args.format == "svg" and not dot.graphviz_available():
        return _die(dot.MISSING_GRAPHVIZ)
    # the findings drawn are those check reports: the same pipeline
    result = _run(session, args.quiet, need_program=True)
    if not args.quiet:
        for notice in result.report.notices:
            if notice.kind == "input":   # a PATH that was not analysed
                print(f"lifecheck: {notice.file}: {notice.message}", file=sys.stderr)
    try:
        names = select_types(result.program, args.types)
    except UnknownTypeError as exc:
        return _die(str(exc))
    if not names:
        return _die("no device type with a lifecycle hook in the analysed files "
                    "(use --type to name one)")
    activity.doing("drawing the lifecycle graph of " + ", ".join(names))
    graph = build(result.program, session.catalog, result.report.findings, names, session.tree.version)
    title = f"lifecheck graph, QEMU {result.report.version}"
    activity.doing(f"writing the graph as {args.format}")
    if args.format == "mermaid":
        text = mermaid.render(graph, title)
    else:
        text = dot.render(graph, title)
        if args.format == "svg":
            try:
                text = dot.render_svg(text)
            except dot.GraphvizError as exc:
                return _die(str(exc))
    if args.output:
        with _open_output(args.output) as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    if result.internal:
        print("lifecheck: internal error while analysing some files (run 'lifecheck check -v')",
              file=sys.stderr)
        return 2
    return 0


def _api_mine(args) -> int:
    from .report import api_pairs

    if args.top < 0 or args.examples < 0:
        raise UsageError("--top and --examples must not be negative")
    session = Session.open(_request(args))
    mined = _with_progress(args.quiet, lambda progress: session.mine(args.min_support, args.min_confidence,
                                                                      args.min_sites, progress))
    report = mined.analysis.report
    source = f"QEMU {report.version} ({', '.join(_shown_paths(args.paths))})"
    written = api_pairs.written_pairs(mined.proposed)
    limits = dict(min_support=mined.min_support, min_confidence=mined.min_confidence, min_sites=mined.min_sites)
    activity.doing(f"writing the mined pairs as {args.format}" + (f" to {args.output}" if args.output else ""))
    out = _open_output(args.output) if args.output else sys.stdout
    try:
        if args.format == "toml":
            api_pairs.toml(mined.proposed, mined.headers, out, source=source, examples=args.examples, **limits)
        elif args.format == "json":
            api_pairs.json_report(mined.pairs, out, written=written, top=args.top, qemu_version=report.version,
                                  types=mined.types, **limits)
        elif args.format == "markdown":
            api_pairs.markdown(mined.pairs, out, min_support=mined.min_support, top=args.top,
                               examples=args.examples)
        else:
            api_pairs.text(mined.pairs, out, written=written, top=args.top, examples=args.examples,
                           header=f"lifecheck api mine: {source}, {report.files} files, "
                                  f"{mined.types} QOM types", **limits)
    finally:
        if args.output:
            out.close()
    if not args.quiet:
        listed = len(api_pairs.shown(mined.pairs, mined.min_support))
        print(f"lifecheck: {listed} candidate pair{'' if listed == 1 else 's'}, "
              f"{len(mined.proposed)} new passing support >= {mined.min_support}, confidence >= "
              f"{mined.min_confidence:g} and sites >= {mined.min_sites}"
              + (" (written)" if args.format == "toml" else ""), file=sys.stderr)
    if mined.analysis.internal:
        print("lifecheck: internal error while analysing some files (run 'lifecheck check -v')",
              file=sys.stderr)
        return 2
    return 0


def _shown_paths(paths: List[str]) -> List[str]:
    """The PATHs as given, for a file's comment (never absolute)."""
    return [p if not os.path.isabs(p) else os.path.basename(p.rstrip("/")) or p for p in paths]


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _print_lost_hook_functions(report) -> None:
    """The functions that could not be parsed and that a lifecycle hook
    reaches, on stderr: they change what the findings can be trusted for,
    so they are shown without -v (which prints them with the other
    notices)."""
    for n in sorted(report.notices, key=lambda n: (n.file, n.line, n.message)):
        if n.kind == LOST_HOOK_FUNCTION:
            print(f"lifecheck: {n.file}:{n.line}: note: {n.message}", file=sys.stderr)


def _print_stats(report) -> None:
    found, recovered = report.functions_found, report.functions_recovered
    share = 100.0 * recovered / found if found else 100.0
    empty = sum(1 for n in report.notices if n.kind == "preprocess")
    print(f"lifecheck: {report.files} files, {found} function definitions found, "
          f"{recovered} recovered ({share:.2f}%), {empty} files not preprocessed, "
          f"{len(report.empty_files)} files yielding nothing, "
          f"{report.files_without_functions} files without functions", file=sys.stderr)
    for name in report.empty_files[:20]:
        print(f"lifecheck:   yields nothing: {name}", file=sys.stderr)
    if len(report.empty_files) > 20:
        print(f"lifecheck:   ... and {len(report.empty_files) - 20} more", file=sys.stderr)
    lost = sorted((report.lost_reasons or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    for reason, count in lost[:10]:
        print(f"lifecheck:   {count:5} lost: {reason}", file=sys.stderr)
    if report.functions_guessed:
        print(f"lifecheck:   {report.functions_guessed:5} recovered only by guessing type names "
              "no header declares (see -v)", file=sys.stderr)
    reached = lost_reached_from_hooks(report)
    print(f"lifecheck:   {reached:5} lost function{'' if reached == 1 else 's'} "
          "reachable from a lifecycle hook" + (" (see -v)" if reached else ""), file=sys.stderr)
    if report.timings:
        # wall seconds (CPU seconds of lifecheck and the processes it ran)
        print("lifecheck: time: " + ", ".join(f"{step} {wall:.1f} s (CPU {cpu:.1f} s)"
                                              for step, (wall, cpu) in report.timings.items()), file=sys.stderr)
    _print_reach(report)


def _print_reach(report) -> None:
    """Per consequence, the findings shown; then, for each device type with
    a finding, why the event its findings need can happen or not (its
    hotplug status, whether it can be instantiated)."""
    by_consequence = {}
    for f in report.findings:
        by_consequence[f.consequence or "none"] = by_consequence.get(f.consequence or "none", 0) + 1
    for name, n in sorted(by_consequence.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"lifecheck:   {n:5} shown: {name}", file=sys.stderr)
    reasons = sorted({(f.device, f.reach) for f in report.findings if f.device and f.reach})
    for device, why in reasons:
        print(f"lifecheck:   reach: {why}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
