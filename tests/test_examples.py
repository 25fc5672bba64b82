"""The examples/ tree is executable documentation: every finding lifecheck
reports there must be annotated on its line, and every annotation must hold.

Annotations (STYLE.md): ``/* lifecheck: expect[slug] */`` on the line a
finding is reported; known gaps ``expect-missing[slug]`` (a bug lifecheck
does not find yet) and ``expect-spurious[slug]`` (a false alarm it gives
yet).  A gap that starts passing fails the test too, so gaps cannot rot."""
from __future__ import annotations

import re

import pytest

from conftest import EXAMPLES, check_tree

COMMENT_RE = re.compile(r"lifecheck:([^*]*)\*/")
ANNOTATION_RE = re.compile(r"\b(expect|expect-missing|expect-spurious|ok)\[([a-z0-9-]+)\]")


def annotations():
    found = {"expect": set(), "expect-missing": set(), "expect-spurious": set()}
    for path in sorted(EXAMPLES.rglob("*.c")):
        rel = path.relative_to(EXAMPLES).as_posix()
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for comment in COMMENT_RE.findall(line):
                for kind, slug in ANNOTATION_RE.findall(comment):
                    if kind in found:
                        found[kind].add((rel, lineno, slug))
    return found


@pytest.fixture(scope="module")
def example_report(catalog):
    return check_tree(EXAMPLES, [EXAMPLES], catalog)


def test_examples_parse_completely(example_report):
    assert example_report.functions_found > 0
    assert example_report.functions_found == example_report.functions_recovered
    assert [n for n in example_report.notices if n.kind != "input"] == []


def test_examples_match_annotations(example_report, catalog):
    ann = annotations()
    actual = {(f.loc.file, f.loc.line, f.rule) for f in example_report.findings}
    unexpected = actual - ann["expect"] - ann["expect-spurious"]
    missing = ann["expect"] - actual
    fixed_missing = ann["expect-missing"] & actual
    fixed_spurious = ann["expect-spurious"] - actual
    assert not unexpected, f"unannotated findings: {sorted(unexpected)}"
    assert not missing, f"expected findings not reported: {sorted(missing)}"
    assert not fixed_missing, f"known gaps now found, turn them into expect[...]: {sorted(fixed_missing)}"
    assert not fixed_spurious, f"known false alarms gone, remove expect-spurious: {sorted(fixed_spurious)}"


def test_every_rule_has_examples(catalog):
    ann = annotations()
    slugs = {slug for _, _, slug in ann["expect"]}
    applicable = {s for s, spec in catalog.rules.items() if spec.applies_to((10, 2, 2))}
    assert applicable <= slugs, f"rules without a bad example: {sorted(applicable - slugs)}"


def test_annotation_slugs_exist(catalog):
    for kind, items in annotations().items():
        for rel, line, slug in items:
            assert slug in catalog.rules, f"{rel}:{line}: unknown rule '{slug}' in {kind}"
