#!/usr/bin/env python3
"""Measure checked fixes on a tree: one analysis, then every output of
``lifecheck fix`` from it, and the checks the fixes must pass.

  python scripts/fix_measure.py --root TREE --out DIR [--min-severity error] [PATH ...]

Writes DIR/fixes.json (what ``lifecheck fix --format json`` prints),
DIR/all.diff (``--diff``), DIR/patches/*.patch (``--format patch``, with
the placeholder Signed-off-by), then runs ``git apply --check`` on the
diff and on every patch, and the tree's ``scripts/checkpatch.pl`` on every
patch (both only read the tree), and prints the figures.
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

from lifecheck.findings import severity_rank  # noqa: E402
from lifecheck.fix import recheck  # noqa: E402
from lifecheck.fix.edits import PLACEHOLDER_SIGNOFF, diff_of, patch_text  # noqa: E402
from lifecheck.pipeline import FindingsRequest  # noqa: E402
from lifecheck.session import Request, Session  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-severity", default="error")
    ap.add_argument("-j", type=int, default=2)
    ap.add_argument("--show-all", action="store_true", help="also findings that hold only in principle")
    ap.add_argument("paths", nargs="*", default=["hw"])
    args = ap.parse_args()
    root = Path(args.root).resolve()
    out = Path(args.out)
    (out / "patches").mkdir(parents=True, exist_ok=True)
    findings = FindingsRequest(show_all=True) if args.show_all else FindingsRequest()
    session = Session.open(Request(paths=tuple(root / p for p in args.paths), root=root, jobs=args.j,
                                   findings=findings))
    analysis = session.run(need_program=True)
    floor = severity_rank(args.min_severity)
    wanted = [f for f in analysis.report.findings if severity_rank(f.severity) >= floor and f.shape]
    fixes = recheck.fixes_for(session.tree, session.catalog, analysis.program, wanted, session.pipeline.selected)
    good = [fixes[f.fingerprint].fix for f in wanted if fixes[f.fingerprint].fix is not None]
    texts = recheck.source_texts(session.tree, fixes)
    applied, _ = recheck.combined(texts, good)
    together = {fix.fingerprint for fix, _ in applied}
    rows = [{"rule": f.rule, "severity": f.severity, "file": f.loc.file, "line": f.loc.line,
             "resource": f.resource, "device": f.device, "fingerprint": f.fingerprint,
             "fix": fixes[f.fingerprint].fix.description if fixes[f.fingerprint].fix else None,
             "none": fixes[f.fingerprint].none or None, "tried": fixes[f.fingerprint].tried,
             "failed": list(fixes[f.fingerprint].failed), "with_others": f.fingerprint in together}
            for f in wanted]
    (out / "fixes.json").write_text(json.dumps(rows, indent=1) + "\n")
    (out / "all.diff").write_text("".join(d for _, d in applied))
    for old in (out / "patches").glob("*.patch"):
        old.unlink()
    for n, fix in enumerate(good, 1):
        name = re.sub(r"-+", "-", "".join(c if c.isalnum() else "-" for c in fix.subject)).strip("-")
        (out / "patches" / f"{n:04d}-{name[:52].rstrip('-')}.patch").write_text(
            patch_text(fix, diff_of(texts, fix.ops), PLACEHOLDER_SIGNOFF))
    # the checks: they only read the tree
    ok_all = subprocess.run(["git", "apply", "--check", str(out / "all.diff")], cwd=root,
                            capture_output=True, text=True)
    apply_fail, cp_errors, cp_warnings, cp_bad = [], 0, 0, []
    for p in sorted((out / "patches").glob("*.patch")):
        r = subprocess.run(["git", "apply", "--check", str(p)], cwd=root, capture_output=True, text=True)
        if r.returncode:
            apply_fail.append(p.name)
        c = subprocess.run(["perl", "scripts/checkpatch.pl", str(p)], cwd=root, capture_output=True, text=True)
        m = re.search(r"total: (\d+) errors, (\d+) warnings", c.stdout)
        if m:
            cp_errors += int(m.group(1))
            cp_warnings += int(m.group(2))
            if int(m.group(1)):
                cp_bad.append((p.name, [line for line in c.stdout.splitlines() if line.startswith("ERROR")]))
    print(f"findings at or above {args.min_severity}: {len(wanted)}; with a checked fix: {len(good)} "
          f"({100 * len(good) / max(1, len(wanted)):.0f}%); applied together: {len(applied)}")
    print(f"git apply --check all.diff: {'ok' if ok_all.returncode == 0 else 'FAILED ' + ok_all.stderr[:300]}")
    print(f"git apply --check per patch: {len(good) - len(apply_fail)} of {len(good)} ok {apply_fail[:5]}")
    print(f"checkpatch.pl: {cp_errors} errors, {cp_warnings} warnings over {len(good)} patches")
    for name, errs in cp_bad:
        print(f"  {name}: {errs[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
