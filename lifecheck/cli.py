"""The ``lifecheck`` command line.  It parses arguments and wires the layers
together; it holds no analysis logic."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from . import __version__
from .findings import severity_rank
from .frontend.tree import QemuTree, TreeError, find_root
from .limits import DEFAULT_FILE_TIMEOUT, DEFAULT_MAX_FILE_SIZE, DEFAULT_WORKER_MEMORY, MB, Limits
from .rules.catalog import RuleDataError, default_rules_dir, load_catalog

FORMATS = ("text", "json", "sarif")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lifecheck",
                                description="Find QOM device lifetime bugs in a QEMU source tree.")
    p.add_argument("--version", action="version", version=f"lifecheck {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("check", help="check files or folders of a QEMU tree")
    c.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help="files or folders to check (default: .)")
    c.add_argument("--root", help="the QEMU tree root (default: found by walking up from PATH)")
    c.add_argument("--format", choices=FORMATS, default="text")
    c.add_argument("--output", "-o", help="write the report to FILE instead of standard output")
    c.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="parallel workers (default: number of CPUs)")
    c.add_argument("--fail-on", choices=("error", "warning", "note"), default="error",
                   help="lowest severity that makes the exit status 1 (default: error)")
    c.add_argument("--select", action="append", metavar="SLUG",
                   help="run only this rule (repeatable)")
    c.add_argument("--rules-dir", action="append", default=[], metavar="DIR",
                   help="extra rules folder (rule files, api/, tables/) added to the bundled one")
    c.add_argument("-v", "--verbose", action="store_true",
                   help="also print notices (what could not be analysed) and a summary")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing but findings")
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
                   help="empty the unit cache before checking")
    c.add_argument("--stats", action="store_true",
                   help="print parse coverage (files, functions found and recovered, why functions were lost) on stderr")

    e = sub.add_parser("explain", help="print a rule's documentation")
    e.add_argument("slug", nargs="?", help="rule slug; without it, list the rules")

    _add_graph_parser(sub)
    return p


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
    try:
        if args.command == "explain":
            return _explain(args)
        if args.command == "graph":
            return _graph(args)
        return _check(args)
    except (TreeError, RuleDataError) as exc:
        return _die(str(exc))
    except KeyboardInterrupt:
        return _die("interrupted")


def _explain(args) -> int:
    from .explain import render
    catalog = load_catalog()
    if not args.slug:
        for slug, spec in sorted(catalog.rules.items()):
            print(f"{slug:28} {spec.summary}")
        return 0
    spec = catalog.rules.get(args.slug)
    if spec is None:
        return _die(f"no rule '{args.slug}' (see 'lifecheck explain' for the list)")
    text = render(spec)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _check(args) -> int:
    from .analysis import run
    from .report import json_format, sarif, text

    if args.jobs < 1:
        return _die("-j must be at least 1")
    if min(args.file_timeout, args.max_file_size, args.max_memory) < 0:
        return _die("--file-timeout, --max-file-size and --max-memory must not be negative")
    # every file is analysed in a worker process, even with -j 1, so that the
    # limits hold and a file that kills its worker costs only that file
    limits = Limits(file_timeout=args.file_timeout, max_file_size=int(args.max_file_size * MB),
                    worker_memory=int(args.max_memory * MB), isolate=True)
    paths = [Path(p) for p in args.paths]
    if args.root:
        tree = QemuTree.open(Path(args.root))
    else:
        found = find_root(paths[0])
        if found is None:
            return _die(f"{paths[0]}: not inside a QEMU tree (no folder above it holds VERSION "
                        "and include/qemu/); pass --root")
        tree = QemuTree.open(found)
    if args.root:
        # relative PATHs are taken from the current folder, as usual
        paths = [p if p.is_absolute() else Path.cwd() / p for p in paths]
    catalog = load_catalog([default_rules_dir()] + [Path(d) for d in args.rules_dir])
    select = set(args.select) if args.select else None
    if select:
        unknown = select - set(catalog.rules)
        if unknown:
            return _die(f"unknown rule(s): {', '.join(sorted(unknown))}")
    if args.clear_cache:
        from .cache import cache_root, clear
        clear(cache_root())
    progress = None
    if not args.quiet and _is_terminal(sys.stderr):
        from .progress import ProgressBar
        progress = ProgressBar(sys.stderr)
    try:
        report, internal = run(tree, paths, catalog, jobs=args.jobs, select=select,
                               use_cache=not args.no_cache, progress=progress, limits=limits)
    finally:
        if progress is not None:
            progress.close()
    reporter = {"text": text, "json": json_format, "sarif": sarif}[args.format]
    out = open(args.output, "w", encoding="utf-8", newline="\n") if args.output else sys.stdout
    try:
        if args.format == "text":
            reporter.report(report, out, verbose=args.verbose and not args.quiet)
        else:
            reporter.report(report, out)
    finally:
        if args.output:
            out.close()
    if args.stats:
        _print_stats(report)
    if internal:
        print("lifecheck: internal error while analysing some files (see the notices with -v)",
              file=sys.stderr)
        return 2
    threshold = severity_rank(args.fail_on)
    return 1 if any(severity_rank(f.severity) >= threshold for f in report.findings) else 0


def _add_graph_parser(sub) -> None:
    g = sub.add_parser("graph", help="draw device lifecycles (DOT, Mermaid or SVG)",
                       description="Draw the lifecycle of device types defined in PATHs: the hooks "
                                   "of each phase, who runs them, the helpers they call, each "
                                   "acquire/release call, and the findings of a check.")
    g.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                   help="files or folders to analyse (default: .); add the files of parent types "
                        "(e.g. hw/pci/pci.c) to see inherited hooks")
    g.add_argument("--type", "-t", action="append", dest="types", metavar="QOM-TYPE",
                   help="draw this QOM type (its TypeInfo name, e.g. e1000; repeatable; "
                        "default: every type with a lifecycle hook in PATHs)")
    g.add_argument("--root", help="the QEMU tree root (default: found by walking up from PATH)")
    g.add_argument("--format", choices=("dot", "mermaid", "svg"), default="dot",
                   help="dot (Graphviz), mermaid (a flowchart), svg (runs Graphviz's dot)")
    g.add_argument("--output", "-o", help="write the graph to FILE instead of standard output")
    g.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="parallel workers (default: number of CPUs)")
    g.add_argument("--rules-dir", action="append", default=[], metavar="DIR",
                   help="extra rules folder, as for check")


def _graph(args) -> int:
    from .analysis import analyse
    from .lifegraph import UnknownTypeError, build, select_types
    from .report import dot, mermaid

    if args.jobs < 1:
        return _die("-j must be at least 1")
    paths = [Path(p) for p in args.paths]
    if args.root:
        tree = QemuTree.open(Path(args.root))
        paths = [p if p.is_absolute() else Path.cwd() / p for p in paths]
    else:
        found = find_root(paths[0])
        if found is None:
            return _die(f"{paths[0]}: not inside a QEMU tree (no folder above it holds VERSION "
                        "and include/qemu/); pass --root")
        tree = QemuTree.open(found)
    if args.format == "svg" and not dot.graphviz_available():
        return _die(dot.MISSING_GRAPHVIZ)
    catalog = load_catalog([default_rules_dir()] + [Path(d) for d in args.rules_dir])
    result = analyse(tree, paths, catalog, jobs=args.jobs, limits=Limits(isolate=True))
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
    graph = build(result.program, catalog, result.report.findings, names, tree.version)
    title = f"lifecheck graph, QEMU {result.report.version}"
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
        with open(args.output, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    if result.internal:
        print("lifecheck: internal error while analysing some files (run 'lifecheck check -v')",
              file=sys.stderr)
        return 2
    return 0


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
