#!/usr/bin/env python3
"""Fix rates per rule from the output of ``lifecheck fix --format json``.

  python scripts/fix_stats.py FIX.json

Per rule: findings, with a candidate computed (offered to the re-check),
with a fix that passed the re-check, and the reasons of those without one
(the reason's text up to its first colon or parenthesis, counted).
"""
import collections
import json
import re
import sys


def reason_class(text: str) -> str:
    text = re.sub(r"'[^']*'|\b\w+\(\)|self\.[\w.\[\]>-]+|\b[\w-]+\.c\b|line \d+", "X", text)
    return text[:110]


def main() -> int:
    rows = json.load(open(sys.argv[1]))
    by_rule = collections.defaultdict(list)
    for r in rows:
        by_rule[(r["rule"], r["severity"])].append(r)
    print("| rule | severity | findings | candidate computed | passes the re-check | none |")
    print("|---|---|---:|---:|---:|---:|")
    total = [0, 0, 0]
    for (rule, sev), rs in sorted(by_rule.items()):
        offered = sum(1 for r in rs if r["tried"] or r["fix"])
        ok = sum(1 for r in rs if r["fix"])
        total[0] += len(rs)
        total[1] += offered
        total[2] += ok
        print(f"| {rule} | {sev} | {len(rs)} | {offered} | {ok} | {len(rs) - ok} |")
    print(f"| all | | {total[0]} | {total[1]} | {total[2]} ({100 * total[2] / max(1, total[0]):.0f}%) | "
          f"{total[0] - total[2]} |")
    print()
    reasons = collections.Counter((r["rule"], reason_class(r["none"])) for r in rows if not r["fix"])
    print("| rule | why there is no fix | findings |")
    print("|---|---|---:|")
    for (rule, why), n in sorted(reasons.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"| {rule} | {why.replace('|', '/')} | {n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
