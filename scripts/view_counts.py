"""Counts of the default view from a JSON report written with --show-all:
shown and hidden findings per severity, per rule and consequence
(docs/triage-10.2.md, "Default view (issue 18)").

    python3 scripts/view_counts.py REPORT.json
"""
import collections
import json
import sys


def main(path: str) -> None:
    findings = json.load(open(path))["findings"]
    shown = [f for f in findings if not f.get("in_principle")]
    hidden = [f for f in findings if f.get("in_principle")]
    print(f"{len(findings)} findings: {len(shown)} shown, {len(hidden)} hidden")
    for name, group in (("shown", shown), ("hidden", hidden)):
        sev = collections.Counter(f["severity"] for f in group)
        print(f"\n{name}: " + ", ".join(f"{n} {s}" for s, n in sorted(sev.items())))
        rows = collections.Counter((f["rule"], f.get("consequence", ""), f["severity"]) for f in group)
        for (rule, consequence, severity), n in sorted(rows.items()):
            print(f"  {n:4}  {severity:7}  {rule:26} {consequence}")


if __name__ == "__main__":
    main(sys.argv[1])
