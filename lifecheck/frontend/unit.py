"""One file in, one ``model.TranslationUnit`` out.

Wires preprocessing, chunked parsing and extraction (the C facts of
functions.py, watched by the QOM recognition of qom.py), and turns every
failure into a ``Notice``: a file that cannot be analysed costs that file
(or that function), never the run.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from pycparser import c_ast

from ..model import LostFunction, Notice, ParseStats, TranslationUnit
from .chunks import function_name, is_static
from .functions import FunctionExtractor
from .parse import parse_preprocessed
from .qom import QomRecogniser, transparent_calls
from .preprocess import PreprocessError, Preprocessor, marker_names


def include_closure(text: str) -> List[str]:
    """Every file the preprocessor read to produce ``text`` (the source
    file, its headers, stubs and the prelude), from the line markers."""
    names = marker_names(text)
    out = []
    for name in names:
        if name.startswith("<"):  # <built-in>, <command-line>
            continue
        out.append(name.replace('\\"', '"').replace("\\\\", "\\"))
    return sorted(out)


def analyse_file(pre: Preprocessor, path: Path) -> TranslationUnit:
    return analyse_file_with_closure(pre, path)[0]


def analyse_file_with_closure(pre: Preprocessor, path: Path) -> Tuple[TranslationUnit, Optional[List[str]]]:
    """The unit of ``path`` and the files its preprocessing read (None
    when it could not be preprocessed: such a result is not worth keeping,
    the cause may be passing)."""
    tree = pre.tree
    rel = tree.relative(path)
    unit = TranslationUnit(file=rel)
    try:
        pp = pre.run(path)
    except PreprocessError as exc:
        # paths inside the tree are reported relative to its root
        message = str(exc).replace(str(tree.root) + os.sep, "")
        unit.notices.append(Notice(rel, 0, message, kind="preprocess"))
        unit.stats = ParseStats(lost_reasons={"preprocessing failed": 1})
        return unit, None
    return model_from_preprocessed(rel, path, pp.text, pre.realpath), include_closure(pp.text)


def model_from_preprocessed(rel: str, path: Path, text: str,
                            realpath: Callable[[str], str] = os.path.realpath) -> TranslationUnit:
    """The model of one preprocessed file; ``path`` is the main file as the
    line markers name it, ``rel`` its name in findings and notices;
    ``realpath`` resolves links (a memo of it saves most of the time spent
    telling the main file from headers)."""
    unit = TranslationUnit(file=rel)
    real = os.path.realpath(path)
    names = {}

    def is_main(name: str) -> bool:
        hit = names.get(name)
        if hit is None:
            hit = names[name] = (name == str(path) or realpath(name) == real)
        return hit

    try:
        result = parse_preprocessed(text, is_main)
    except RecursionError:
        unit.notices.append(Notice(rel, 0, "too deeply nested to parse", kind="parse"))
        return unit
    stats = ParseStats(functions_found=result.functions_found,
                       functions_recovered=result.functions_recovered)
    # the cast functions the headers define are seen through like those qom.toml names
    extractor = FunctionExtractor(rel, transparent_calls() | result.qom_casts, recogniser=QomRecogniser)
    qom = extractor.recogniser
    for parsed in result.parsed:
        try:
            extractor.add_ast(parsed.ast)
        except RecursionError:
            unit.notices.append(Notice(rel, parsed.chunk.line, "too deeply nested to analyse", kind="model"))
        if parsed.guessed:
            unit.notices.append(_guess_notice(rel, parsed.chunk.line, parsed.ast, parsed.guessed))
            if parsed.chunk.kind == "function":
                stats.functions_guessed += 1
    for chunk, reason in result.failed:
        if chunk.kind == "function":
            stats.lost_reasons[reason] = stats.lost_reasons.get(reason, 0) + 1
            unit.lost_functions.append(LostFunction(function_name(chunk.text), chunk.line, reason,
                                                    is_static(chunk.text)))
        what = "function" if chunk.kind == "function" else "declaration"
        unit.notices.append(Notice(rel, chunk.line, f"{what} skipped: pycparser: {reason}", kind="parse"))
    unit.functions = extractor.functions
    unit.types = qom.types
    unit.bindings = qom.bindings
    unit.properties = qom.properties
    unit.written = tuple(sorted(extractor.written))
    unit.initialisers = extractor.initialisers
    unit.type_templates = qom.templates
    unit.template_calls = qom.template_calls
    unit.qom_casts = tuple(sorted(result.qom_casts))
    unit.stats = stats
    return unit


def _guess_notice(rel: str, line: int, ast: c_ast.FileAST, guessed) -> Notice:
    """The notice of a chunk parsed only by taking ``guessed`` as type
    names (kind "guess"): what was assumed, so a reader can judge it."""
    what = "declaration"
    for node in ast.ext:
        if isinstance(node, c_ast.FuncDef) and node.decl.name:
            what = f"function {node.decl.name}()"
            break
        if isinstance(node, (c_ast.Decl, c_ast.Typedef)) and node.name:
            what = f"declaration of {node.name}"
            break
    names = ", ".join(guessed)
    noun = "a type name" if len(guessed) == 1 else "type names"
    return Notice(rel, line, f"{what} parsed by taking {names} as {noun} declared by no header in the tree",
                  kind="guess")
