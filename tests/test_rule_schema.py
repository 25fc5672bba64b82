"""Rule files are checked against their kind's typed configuration: a
mistake is exit status 2 with the file, the key and the allowed values
named -- never a traceback, never a rule that is silently dead."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from lifecheck.findings import SHAPES
from lifecheck.rules import schema
from lifecheck.rules.catalog import RuleDataError, default_rules_dir, load_catalog
from lifecheck.rules.kinds import KINDS
from lifecheck.rules.spec import RuleConfig

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

DOC = '''
[doc]
what = "What."
why = "Why."
bad = "bad();"
good = "good();"
references = ["docs/devel/qom.rst"]
'''


def rule(kind: str, config: str, slug: str = "my-rule") -> str:
    return f'slug = "{slug}"\nkind = "{kind}"\nsummary = "Mine."\n\n[config]\n{config}\n{DOC}'


LEAK = 'families = ["timer"]\nacquire_phases = ["realize"]\nrelease_phases = ["unrealize"]\n'

# (rule file text, what stderr must say)
MISTAKES = {
    "misspelt-key": (rule("leak", LEAK.replace("release_phases", "relase_phases")),
                     "unknown key 'config.relase_phases'; did you mean 'release_phases'?"),
    "misspelt-root": (rule("leak", LEAK + 'roots = ["slef"]\n'),
                      "key 'config.roots[0]': unknown root 'slef'; did you mean 'self'?"),
    "misspelt-placeholder": (rule("leak", LEAK + 'message = "{resorce} leaks"\n'),
                             "key 'config.message': unknown placeholder '{resorce}'; did you mean '{resource}'?"),
    "misspelt-predicate": (rule("wrong-phase-release", 'phases = ["unrealize"]\n[[config.match]]\n'
                                'family = "memory-region"\nresource_is = "regoin"\n'),
                           "key 'config.match[0].resource_is': unknown resource-predicate 'regoin'; "
                           "did you mean 'region'?"),
    "misspelt-phase": (rule("leak", LEAK.replace('["unrealize"]', '["unrealise"]')),
                       "key 'config.release_phases[0]': unknown phase 'unrealise'; did you mean 'unrealize'?"),
    "misspelt-family": (rule("leak", LEAK.replace('"timer"', '"timr"')),
                        "key 'config.families[0]': unknown API family 'timr'; did you mean 'timer'?"),
    "misspelt-function": (rule("wrong-phase-release", 'phases = ["unrealize"]\n[[config.match]]\n'
                               'family = "memory-region"\nfunctions = ["object_unparnt"]\n'),
                          "key 'config.match[0].functions[0]': 'object_unparnt' is not a function of any "
                          "API family; did you mean 'object_unparent'?"),
    "wrong-type": (rule("leak", LEAK + 'severity_by_unplug = "yes"\n'),
                   "key 'config.severity_by_unplug' must be true or false"),
    "unknown-severity": (rule("leak", LEAK + 'default_severity = "fatal"\n'),
                         "key 'config.default_severity': unknown severity 'fatal'"),
    "unknown-kind": (rule("leek", LEAK), "key 'kind': unknown kind 'leek'; allowed: "),
    "unknown-top-key": ('severity = "error"\n' + rule("leak", LEAK), "unknown key 'severity'; allowed: "),
    "bad-version": (rule("leak", LEAK + 'version_severity = [ { max = "ten", severity = "note" } ]\n'),
                    "key 'config.version_severity[0].max': 'ten' is not a QEMU version"),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_a_mistake_in_a_rule_file_is_exit_2_naming_file_and_key(tmp_path, case):
    text, expected = MISTAKES[case]
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "my-rule.toml").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", "--rules-dir", str(rules),
                           "--no-cache", "-j", "1", str(EXAMPLES)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{rules / 'my-rule.toml'}: " in proc.stderr
    assert expected in proc.stderr, proc.stderr
    assert proc.stdout == ""


API_MISTAKES = {
    "trait": ('traits = ["regoin"]\n', "key 'family[0].traits': unknown trait 'regoin'"),
    "attr": ('', "key 'family[0].acquire[0].attrs': unknown attr 'idempotant'"),
    "mined": ('mined = "yes"\n', "key 'family[0].mined' must be true or false"),
    "frees-argument": ('', "key 'family[0].acquire[0].attrs': 'frees-argument' is for release calls"),
    "on_failure": ('', "key 'family[0].acquire[0].on_failure.closes': unknown; allowed: "
                       "clears, never_if_constant, released_as, releases, wipes"),
    "on_failure-index": ('', "key 'family[0].acquire[0].on_failure.wipes' must be an argument index"),
}


@pytest.mark.parametrize("case", sorted(API_MISTAKES))
def test_a_mistake_in_an_api_file_names_file_and_key(tmp_path, case):
    extra, expected = API_MISTAKES[case]
    attrs = {"attr": ', attrs = ["idempotant"]',
             "frees-argument": ', attrs = ["frees-argument"]',
             "on_failure": ', on_failure = { closes = 1 }',
             "on_failure-index": ', on_failure = { wipes = "hdev" }'}.get(case, "")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "mine.toml").write_text(
        '[[family]]\nname = "mine"\nheader = "include/hw/mine.h"\n' + extra +
        f'acquire = [ {{ function = "mine_new", resource = -1{attrs} }} ]\n'
        'release = [ { function = "mine_free", resource = 0 } ]\n')
    with pytest.raises(RuleDataError) as err:
        load_catalog([default_rules_dir(), tmp_path])
    assert str(err.value).startswith(f"{tmp_path / 'api' / 'mine.toml'}: ")
    assert expected in str(err.value)


def test_every_kind_declares_its_configuration_and_finding_shape():
    for name, kind in KINDS.items():
        assert kind.name == name
        assert dataclasses.is_dataclass(kind.config) and issubclass(kind.config, RuleConfig)
        assert kind.shape in SHAPES
        kind.config()   # every key has a default
        for key, typ, doc in schema.describe(kind.config):
            assert doc, f"{name}: config key '{key}' is not documented"


def test_every_bundled_rule_uses_a_registered_kind_and_valid_placeholders():
    catalog = load_catalog()
    assert catalog.rules
    for spec in catalog.rules.values():
        kind = KINDS[spec.kind]
        assert isinstance(spec.config, kind.config)
        # the message names only what the kind fills in: formatting with
        # every placeholder works and keeps no brace
        text = spec.message(**{p: f"<{p}>" for p in kind.placeholders})
        assert "{" not in text and text != f"<resource>: {spec.summary}", spec.slug
