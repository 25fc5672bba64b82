"""Output of ``lifecheck api mine``: the mined acquire/release pairs as a
text table, Markdown, JSON, and the proposed families as rules/api TOML.

Every function here renders what lifecheck/facts/mining.py found; none
looks back into the program.  Output is byte-identical for identical
input (no timestamps, no absolute paths).
"""
from __future__ import annotations

import json
from typing import Dict, Iterable, List, Sequence, Set, Tuple

from ..facts.mining import (MIN_CONFIDENCE, MIN_SITES, MIN_SUPPORT, NEW, P0, RESULT, Example, MinedPair,
                            ProposedFamily)
from ..model import Location


def call_text(function: str, index: int) -> str:
    """``f()→`` (the return value is the resource) or ``f(#n)``, as in
    docs/api-families.md."""
    return f"{function}()→" if index == RESULT else f"{function}(#{index})"


def pair_text(p: MinedPair) -> str:
    return f"{call_text(p.acquire, p.acquire_index)} / {call_text(p.release, p.release_index)}"


def status_text(p: MinedPair) -> str:
    if p.status == NEW:
        return "new" + (f" (release of {p.release_family})" if p.release_family else "")
    return f"{p.status} ({p.family})"


def _loc(loc: Location) -> str:
    return f"{loc.file}:{loc.line}"


def _by_site(examples: Iterable[Example]) -> List[tuple]:
    """Examples grouped by acquisition site: (site, first example, number
    of device types there), in order of first appearance."""
    sites: Dict[Location, list] = {}
    for ex in examples:
        entry = sites.setdefault(ex.acquire, [ex, set()])
        entry[1].add(ex.device)
    return sorted(((loc, e[0], len(e[1])) for loc, e in sites.items()), key=lambda t: (t[0].file, t[0].line))


def _example_text(ex: Example, count: int, release: bool) -> str:
    who = ex.device + (f" +{count - 1} types" if count > 1 else "")
    text = f"{who} {_loc(ex.acquire)} {ex.resource}"
    if release and ex.release is not None:
        rel = ex.release
        text += f" → {rel.line}" if rel.file == ex.acquire.file else f" → {_loc(rel)}"
    return text


def shown(pairs: Sequence[MinedPair], min_support: int, top: int = 0) -> List[MinedPair]:
    """The pairs a table lists: at least ``min_support`` device types,
    ranked; the first ``top`` (0: all)."""
    rows = [p for p in pairs if p.support >= min_support]
    return rows[:top] if top else rows


def written_pairs(families: Iterable[ProposedFamily]) -> Set[Tuple[str, str]]:
    """(acquire, release) of every pair the families hold."""
    return {(f.acquire, release) for f in families for release, _, _ in f.releases}


def text(pairs: Sequence[MinedPair], out, *, min_support: int = MIN_SUPPORT,
         min_confidence: float = MIN_CONFIDENCE, min_sites: int = MIN_SITES,
         written: Iterable[Tuple[str, str]] = (), top: int = 0, examples: int = 3, header: str = "") -> None:
    """A ranked table, one pair a row, then its followers and deviants
    (file:line of the acquisition; → the line of the release)."""
    rows = shown(pairs, min_support, top)
    written = set(written)
    if header:
        out.write(header + "\n")
    out.write(f"{len(rows)} candidate pair{'' if len(rows) == 1 else 's'} used by at least {min_support} "
              f"device types, ranked by z = (confidence - {P0}) / sqrt({P0}·{1 - P0:.1f}/support); "
              f"'+': --format toml writes it (new, confidence >= {min_confidence:g}, "
              f"sites >= {min_sites})\n")
    if not rows:
        return
    width = max(len(pair_text(p)) for p in rows)
    out.write(f"{'rank':>4}   {'acquire / release':<{width}}  {'support':>7}  {'sites':>5}  {'conf':>5}  "
              f"{'z':>6}  status\n")
    for n, p in enumerate(rows, 1):
        mark = "+" if (p.acquire, p.release) in written else " "
        out.write(f"{n:>4} {mark} {pair_text(p):<{width}}  {p.support:>7}  {p.sites:>5}  {p.confidence:>5.2f}  "
                  f"{p.z:>6.2f}  {status_text(p)}\n")
        if p.frees_argument:
            out.write(f"{'':7}note:     {p.release}() frees the object it is given"
                      + (f"; {p.embedded} device types embed it (&s->field): not a fix for them"
                         if p.embedded else "") + "\n")
        follow = _by_site(p.examples)
        deviate = _by_site(p.deviants)
        if follow and examples:
            out.write(f"{'':7}follows:  " + "; ".join(_example_text(ex, c, True) for _, ex, c in follow[:examples])
                      + (f"; ... ({len(follow)} sites)" if len(follow) > examples else "") + "\n")
        if deviate and examples:
            out.write(f"{'':7}deviates: " + "; ".join(_example_text(ex, c, False) for _, ex, c in deviate[:examples])
                      + (f"; ... ({len(deviate)} sites)" if len(deviate) > examples else "") + "\n")


def markdown(pairs: Sequence[MinedPair], out, *, min_support: int = MIN_SUPPORT, top: int = 0,
             examples: int = 2) -> None:
    """The ranked table as Markdown (docs/api-mining.md)."""
    rows = shown(pairs, min_support, top)
    out.write("| # | acquire / release | support | sites | confidence | z | status | deviates (first sites) |\n")
    out.write("|---:|---|---:|---:|---:|---:|---|---|\n")
    for n, p in enumerate(rows, 1):
        deviate = _by_site(p.deviants)
        cell = "; ".join(f"{ex.device} `{_loc(ex.acquire)}`" for _, ex, _ in deviate[:examples])
        if len(deviate) > examples:
            cell += f"; +{len(deviate) - examples} sites"
        status = status_text(p) + (", frees its argument" if p.frees_argument else "")
        out.write(f"| {n} | `{pair_text(p)}` | {p.support} | {p.sites} | {p.confidence:.2f} ({p.follows}/{p.support}) "
                  f"| {p.z:.2f} | {status} | {cell} |\n")


def _example(ex: Example) -> dict:
    out = {"device": ex.device, "resource": ex.resource, "phase": ex.phase,
           "file": ex.acquire.file, "line": ex.acquire.line}
    if ex.release is not None:
        out["release_file"], out["release_line"] = ex.release.file, ex.release.line
    return out


def document(pairs: Sequence[MinedPair], *, min_support: int = MIN_SUPPORT,
             min_confidence: float = MIN_CONFIDENCE, min_sites: int = MIN_SITES,
             written: Iterable[Tuple[str, str]] = (), top: int = 0, qemu_version: str = "",
             types: int = 0) -> dict:
    written = set(written)
    return {
        "qemu_version": qemu_version,
        "device_types": types,
        "min_support": min_support,
        "min_confidence": min_confidence,
        "min_sites": min_sites,
        "p0": P0,
        "pairs": [{
            "acquire": p.acquire, "acquire_index": p.acquire_index,
            "release": p.release, "release_index": p.release_index,
            "support": p.support, "follows": p.follows, "confidence": round(p.confidence, 4),
            "z": round(p.z, 4), "status": p.status, "family": p.family, "release_family": p.release_family,
            "sites": p.sites, "frees_argument": p.frees_argument, "embedded": p.embedded,
            "written": (p.acquire, p.release) in written,
            "follow": [_example(ex) for ex in p.examples],
            "deviate": [_example(ex) for ex in p.deviants],
        } for p in shown(pairs, min_support, top)],
    }


def json_report(pairs: Sequence[MinedPair], out, **kwargs) -> None:
    out.write(json.dumps(document(pairs, **kwargs), sort_keys=True, indent=2, ensure_ascii=False) + "\n")


def _string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)   # a TOML basic string


def toml(families: Sequence[ProposedFamily], headers: Dict[str, str], out, *, source: str = "",
         min_support: int = MIN_SUPPORT, min_confidence: float = MIN_CONFIDENCE,
         min_sites: int = MIN_SITES, examples: int = 3) -> None:
    """The proposed families as a rules/api file: each ``mined = true``
    (findings about it are notes until a maintainer removes the key),
    with a comment giving its support and confidence."""
    out.write("# Acquire/release pairs mined by `lifecheck api mine`" + (f" from {source}" if source else "")
              + ".\n")
    out.write(f"# New pairs (in no family of rules/api) that at least {min_support} device types use, at\n"
              f"# {min_sites} or more places, and at least {min_confidence:g} of them release.  Not reviewed:\n"
              "# lifecheck reports what they find as notes.  To promote a family, check it against the\n"
              "# comments in its header, write a real summary, and delete `mined = true`.\n")
    if not families:
        out.write("# (none passed the thresholds)\n")
        return
    for fam in families:
        out.write("\n[[family]]\n")
        for p in fam.pairs:
            out.write(f"# {pair_text(p)}: support {p.support} device types ({p.sites} sites), confidence "
                      f"{p.confidence:.2f} ({p.follows}/{p.support}), z {p.z:.2f}\n")
            deviate = _by_site(p.deviants)
            if deviate:
                out.write("#   deviates: " + "; ".join(f"{ex.device} {_loc(ex.acquire)}" for _, ex, _ in deviate[:examples])
                          + (f"; +{len(deviate) - examples} sites" if len(deviate) > examples else "") + "\n")
            if p.frees_argument:
                out.write(f"#   {p.release}() frees the object it is given"
                          + (f"; {p.embedded} device types embed it (&s->field)" if p.embedded else "") + "\n")
        header = headers.get(fam.acquire)
        if header is None:
            out.write(f"# no header of the tree declares {fam.acquire}(): fill in 'header'\n")
        out.write(f"name = {_string(fam.name)}\n")
        out.write(f"header = {_string(header or '')}\n")
        out.write(f"summary = {_string(fam.summary)}\n")
        out.write("must_release = true\nmined = true\n")
        out.write(f"acquire = [\n  {{ function = {_string(fam.acquire)}, resource = {fam.acquire_index} }},\n]\n")
        out.write("release = [\n")
        for function, index, frees in fam.releases:
            attrs = ', attrs = ["frees-argument"]' if frees else ""
            out.write(f"  {{ function = {_string(function)}, resource = {index}{attrs} }},\n")
        out.write("]\n")
