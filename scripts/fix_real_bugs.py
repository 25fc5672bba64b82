#!/usr/bin/env python3
"""Checked fixes for the known real bugs, next to the upstream fix.

  python scripts/fix_real_bugs.py [--bugs ../shared/real-bugs.json] [--trees DIR] [--only ID]

For each case of the real-bugs file: analyse the buggy tree's file (and the
context tests/test_real_bugs.py gives it), take the findings that
test_real_bugs.py counts as finding the bug, compute their checked fixes
(lifecheck/fix/), and print each fix's diff beside the upstream diff of the
same file (buggy tree -> fixed tree), restricted to the hunks that touch
the resource or the release call, for a reader to compare the intent.
Trees are looked up as DIR/qemu-<version> (default ~/.cache/lifecheck-tests).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from lifecheck.fix.edits import diff_of  # noqa: E402
from lifecheck.fix.recheck import fixes_for, source_texts  # noqa: E402
from lifecheck.pipeline import FindingsRequest  # noqa: E402
from lifecheck.session import Request, Session  # noqa: E402
from test_real_bugs import CONTEXT, LINE_SLACK, RULES_FOR_CLASS  # noqa: E402


def tree_dir(trees: Path, name: str) -> Path:
    m = re.match(r"qemu_([\d.]+)", name)
    return trees / f"qemu-{m.group(1)}" if m else trees / name


def upstream_hunks(buggy: Path, fixed: Path, rel: str, words) -> str:
    if not (fixed / rel).is_file():
        return "(the file is gone in the fixed tree)"
    diff = subprocess.run(["diff", "-u", str(buggy / rel), str(fixed / rel)], capture_output=True,
                          text=True).stdout
    hunks = re.split(r"(?m)^(?=@@ )", diff)[1:]
    keep = [h for h in hunks if any(w and w in h for w in words)]
    return "".join(keep[:4]) or "(no hunk names the resource or the release)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bugs", default=str(REPO.parent / "shared" / "real-bugs.json"))
    ap.add_argument("--trees", default=str(Path.home() / ".cache" / "lifecheck-tests"))
    ap.add_argument("--only", action="append", default=[], metavar="ID", help="only this case (repeatable)")
    args = ap.parse_args()
    cases = [c for c in json.loads(Path(args.bugs).read_text()) if not args.only or c["id"] in args.only]
    trees = Path(args.trees)
    for case in cases:
        buggy, fixed = tree_dir(trees, case["buggy_tree"]), tree_dir(trees, case["fixed_tree"])
        print(f"=== {case['id']} ({case['class']}, {case['file']}:{case['buggy_line']})")
        print(f"upstream: {case['fix_summary']}")
        files = [buggy / f for f in [case["file"]] + CONTEXT.get(case["id"], []) if (buggy / f).is_file()]
        if not files:
            print("buggy file missing\n")
            continue
        # every finding, as tests/test_real_bugs.py sees them (not only the default view)
        session = Session.open(Request(paths=tuple(files), root=buggy, jobs=1,
                                       findings=FindingsRequest(show_all=True)))
        analysis = session.run(need_program=True)
        rules = RULES_FOR_CLASS.get(case["class"], set())
        found = [f for f in analysis.report.findings if f.rule in rules and f.loc.file == case["file"]
                 and abs(f.loc.line - case["buggy_line"]) <= LINE_SLACK]
        if not found:
            print("lifecheck: not found on the buggy tree\n")
            continue
        results = fixes_for(session.tree, session.catalog, analysis.program, found, session.pipeline.selected)
        texts = source_texts(session.tree, results)
        words = set()
        for f in found:
            r = results[f.fingerprint]
            print(f"finding: {f.loc.file}:{f.loc.line} [{f.rule}] {f.resource}: {r.hint()}")
            if r.fix is not None:
                print(diff_of(texts, r.fix.ops))
                words.update(re.findall(r"\b(\w+)\(", r.fix.description))
            words.add(f.resource.split(".")[-1].split("->")[-1])
        print("upstream hunks:")
        print(upstream_hunks(buggy, fixed, case["file"], words))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
