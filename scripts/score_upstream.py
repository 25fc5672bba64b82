#!/usr/bin/env python3
"""Recall of lifecheck on a development set of upstream lifetime fixes.

  python scripts/score_upstream.py [--bugs tests/data/upstream-bugs.json]
                                   [--trees DIR] [--only ID ...] [--json OUT]

The set (tests/data/upstream-bugs.json, docs/upstream-bugs.md) holds real
QEMU lifetime fixes that are NOT in tests/data/real-bugs.json: each case is
buggy in its buggy tree (5.2, 7.2 or 10.2.2) and fixed in its fixed tree
(7.2, 10.2.2 or 10.0.13).  A case is scored the way tests/test_real_bugs.py
scores the real bugs: the case's file plus its context files are analysed on
the buggy tree; the case is FOUND when a finding of one of its class's rules
lies in the case's file within LINE_SLACK lines of buggy_line (and, when the
case has a resource_key list, names one of the keys in its resource), and CLEAN when
none of those findings' resources is still reported in that file on the fixed
tree.  A case found but not clean counts as found (recall) and is listed.

For every miss the script prints what lifecheck saw (the api's family in
rules/api, the class's findings elsewhere in the file, other rules' findings
near the line) and the reasoning the case needs that lifecheck lacks
(MISSING below, written by reading the case; a MISSING entry on a case that
is now found is reported as stale, so the table cannot rot).

Trees are looked up as DIR/qemu-<version> (default ~/.cache/lifecheck-tests,
or LIFECHECK_QEMU_TREES).  Not a pytest test: it needs all four trees.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from conftest import check_tree  # noqa: E402
from lifecheck.rules.catalog import load_catalog  # noqa: E402
from test_real_bugs import LINE_SLACK, RULES_FOR_CLASS  # noqa: E402

# case id -> (reasoning class, what lifecheck would need).  Filled by reading
# each miss of the last run (docs/upstream-bugs.md has the table).
MISSING = {
    "spapr-vcpu-tb-env": (
        "resource of a child object acquired by the parent's hook",
        "spapr_realize_vcpu() (called per thread by the core's realize) runs cpu_ppc_tb_init(), "
        "which allocates cpu->env.tb_env and its timers; lifecheck follows the call (it reports the "
        "realize-error-leak of self.threads[]->env at the same line) but derives no success-path "
        "leak for state stored in the child CPU and owed by spapr_unrealize_vcpu"),
}

# glib allocation macros: the call the preprocessed source shows instead
_MACRO_CALLS = {"g_new": "g_malloc", "g_new0": "g_malloc0", "g_renew": "g_realloc"}


def tree_dir(trees: Path, name: str) -> Path:
    m = re.match(r"qemu_([\d.]+)", name)
    return trees / f"qemu-{m.group(1)}" if m else trees / name


def case_files(tree: Path, case: dict):
    wanted = [case["file"]] + list(case.get("context", []))
    return [tree / f for f in wanted if (tree / f).is_file()]


def class_findings(report, case: dict):
    """The findings of the case's class in its file; with resource_key (when
    two bugs of one file sit within the line slack of each other), only
    those whose resource names one of the keys."""
    rules = RULES_FOR_CLASS[case["class"]]
    keys = case.get("resource_key") or []
    return [f for f in report.findings if f.rule in rules and f.loc.file == case["file"]
            and (not keys or any(k in f.resource for k in keys))]


def api_families(catalog, api: str):
    """The rules/api families naming the case's api (its first call name)."""
    name = re.split(r"[^\w]", api.strip(), 1)[0]
    name = _MACRO_CALLS.get(name, name)
    return sorted({fam.name for fam in catalog.families.values()
                   for c in fam.calls if c.function == name}), name


def score_case(case: dict, trees: Path, catalog) -> dict:
    buggy = tree_dir(trees, case["buggy_tree"])
    fixed = tree_dir(trees, case["fixed_tree"])
    out = {"id": case["id"], "class": case["class"], "file": case["file"],
           "buggy_line": case["buggy_line"]}
    files = case_files(buggy, case)
    if not (buggy / case["file"]).is_file():
        out.update(verdict="error", reason=f"{case['file']} missing in {buggy}")
        return out
    old = check_tree(buggy, files, catalog)
    mine = class_findings(old, case)
    found = [f for f in mine if abs(f.loc.line - case["buggy_line"]) <= LINE_SLACK]
    out["found_by"] = sorted({(f.rule, f.loc.line, f.resource) for f in found})
    if found:
        still = []
        new_files = case_files(fixed, case)
        if (fixed / case["file"]).is_file():
            new = check_tree(fixed, new_files, catalog)
            resources = {f.resource for f in found}
            still = [f for f in class_findings(new, case) if f.resource in resources]
        out["still_on_fixed"] = sorted({(f.rule, f.loc.line, f.resource) for f in still})
        out["verdict"] = "found" if not still else "found-not-clean"
        return out
    fams, name = api_families(catalog, case["api"])
    near = [f for f in old.findings
            if f.loc.file == case["file"] and abs(f.loc.line - case["buggy_line"]) <= LINE_SLACK]
    out.update(verdict="missed",
               api_family=fams, api_name=name,
               class_elsewhere=sorted({(f.rule, f.loc.line, f.resource) for f in mine})[:6],
               other_rules_near=sorted({(f.rule, f.loc.line, f.resource) for f in near})[:6])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bugs", default=str(REPO / "tests" / "data" / "upstream-bugs.json"))
    default_trees = os.environ.get("LIFECHECK_QEMU_TREES") or str(Path.home() / ".cache" / "lifecheck-tests")
    ap.add_argument("--trees", default=default_trees)
    ap.add_argument("--only", nargs="*", help="case ids to score")
    ap.add_argument("--json", help="write the per-case results here")
    args = ap.parse_args()
    cases = json.loads(Path(args.bugs).read_text())
    if args.only:
        cases = [c for c in cases if c["id"] in set(args.only)]
    catalog = load_catalog()
    trees = Path(args.trees)
    results = [score_case(c, trees, catalog) for c in cases]

    per_class = collections.OrderedDict()
    for r in results:
        total, found = per_class.get(r["class"], (0, 0))
        per_class[r["class"]] = (total + 1, found + (r["verdict"].startswith("found")))
    print("per class (found/total):")
    for cls, (total, found) in per_class.items():
        print(f"  {cls:20} {found:3}/{total:<3} {100.0 * found / total:5.1f}%")
    all_found = sum(f for _, f in per_class.values())
    print(f"  {'all':20} {all_found:3}/{len(results):<3} {100.0 * all_found / max(1, len(results)):5.1f}%")
    # cases sharing a fix_group come from one upstream fix or series: count
    # each group once (found when all its cases are found)
    groups = collections.OrderedDict()
    for case, r in zip(cases, results):
        key = case.get("fix_group") or case["id"]
        groups[key] = groups.get(key, True) and r["verdict"].startswith("found")
    print(f"  {'distinct fixes':20} {sum(groups.values()):3}/{len(groups):<3}"
          f" {100.0 * sum(groups.values()) / max(1, len(groups)):5.1f}%  (a fix_group counts once)")
    print()
    for r in results:
        head = f"{r['verdict']:15} {r['id']} ({r['class']}, {r['file']}:{r['buggy_line']})"
        print(head)
        if r["verdict"].startswith("found"):
            print(f"    by {r['found_by']}")
            if r.get("still_on_fixed"):
                print(f"    still on the fixed tree: {r['still_on_fixed']}")
            if r["id"] in MISSING:
                print(f"    STALE: listed in MISSING ({MISSING[r['id']][0]}); remove it")
        elif r["verdict"] == "missed":
            fams = ", ".join(r["api_family"]) or f"none: {r['api_name']} is in no rules/api family"
            print(f"    api family: {fams}")
            if r["class_elsewhere"]:
                print(f"    the class's findings elsewhere in the file: {r['class_elsewhere']}")
            if r["other_rules_near"]:
                print(f"    other findings near the line: {r['other_rules_near']}")
            why = MISSING.get(r["id"])
            print(f"    missing reasoning: {why[0]}: {why[1]}" if why else
                  "    missing reasoning: (not yet annotated in MISSING)")
        else:
            print(f"    {r.get('reason')}")
    by_reason = collections.defaultdict(list)
    for r in results:
        if r["verdict"] == "missed":
            by_reason[MISSING.get(r["id"], ("unannotated", ""))[0]].append(r["id"])
    if by_reason:
        print()
        print("misses by missing reasoning:")
        for reason, ids in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print(f"  {len(ids):2} {reason}: {', '.join(ids)}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=list) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
