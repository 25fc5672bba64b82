#!/usr/bin/env python3
"""Print the error-severity findings of a lifecheck JSON report for triage
(docs/triage-10.2.md): all of them, or a random sample of N (fixed seed, so
the sample is reproducible), each with the source lines around it.

    python scripts/triage_sample.py REPORT.json --root QEMU_TREE [--sample 60] [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--root", required=True, help="the QEMU tree the report is about")
    ap.add_argument("--sample", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--context", type=int, default=3)
    ap.add_argument("--severity", default="error")
    args = ap.parse_args()
    report = json.loads(Path(args.report).read_text())
    findings = [f for f in report["findings"] if f["severity"] == args.severity]
    total = len(findings)
    if total > args.sample:
        findings = sorted(random.Random(args.seed).sample(findings, args.sample),
                          key=lambda f: (f["file"], f["line"], f["rule"]))
    print(f"# {len(findings)} of {total} {args.severity} findings")
    for f in findings:
        print(f"\n## {f['file']}:{f['line']} [{f['rule']}] {f['device']} in {f['function']}()")
        print(f["message"])
        for r in f.get("related", ()):
            print(f"  related {r['file']}:{r['line']}: {r['message']}")
        try:
            lines = (Path(args.root) / f["file"]).read_text(errors="replace").splitlines()
        except OSError:
            continue
        lo = max(1, f["line"] - args.context)
        for n in range(lo, min(len(lines), f["line"] + args.context) + 1):
            print(f"{n:6}{'>' if n == f['line'] else ' '} {lines[n - 1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
