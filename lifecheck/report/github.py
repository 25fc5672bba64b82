"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice``
line per finding, which the runner turns into annotations on the pull
request's diff.

``::error file=PATH,line=N,col=N,title=TITLE::MESSAGE``.  Paths are relative
to the tree root (the repository root in a QEMU fork).  Escaping follows
the runner's rules: in the message ``%``, CR and LF; in property values
also ``:`` and ``,``.  Like every reporter it sees only a ``Report``.
"""
from __future__ import annotations

from ..findings import Finding, Report, finding_order, notice_title
from .text import consequence_text

COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def line(f: Finding) -> str:
    props = [f"file={escape_property(f.loc.file)}"]
    if f.loc.line >= 1:
        props.append(f"line={f.loc.line}")
        if f.loc.col >= 1:
            props.append(f"col={f.loc.col}")
    props.append(f"title={escape_property('lifecheck ' + f.rule)}")
    command = COMMAND.get(f.severity, "warning")
    return f"::{command} {','.join(props)}::{escape_data(f.message + consequence_text(f))} [{f.rule}]"


def report(rep: Report, out, verbose: bool = False) -> None:
    """Write one workflow command per finding; with ``verbose`` also one
    ``::notice`` per place that could not be analysed."""
    for f in sorted(rep.findings, key=finding_order):
        out.write(line(f) + "\n")
    if not verbose:
        return
    for n in sorted(rep.notices, key=lambda n: (n.file, n.line, n.kind, n.message)):
        props = f"file={escape_property(n.file)}"
        if n.line >= 1:
            props += f",line={n.line}"
        out.write(f"::notice {props},title={escape_property('lifecheck ' + notice_title(n))}::"
                  f"{escape_data(n.message)}\n")
