"""Parse preprocessed C chunk by chunk with pycparser (GNU C dialect).

Parsing the whole preprocessed file at once fails on the first construct
pycparser rejects and costs 1-2 s.  Instead each top-level chunk is parsed
alone, with the typedef names of all earlier chunks carried over, so one bad
construct costs one chunk.  Header chunks are only parsed when they declare
typedef names (the only thing later chunks depend on), and their results are
cached for the life of the process: every QEMU file includes the same
headers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import pycparser
from pycparser import c_ast
from pycparserext.ext_c_parser import GnuCParser

from . import plytables
from .chunks import FUNCTION, TAG, TYPEDEF, Chunk, SegmentCache, iter_typedef_names_fallback, split_chunks
from .guess import guess_type_names

_NEW_PARSER = hasattr(pycparser.c_parser.CParser, "_parse_translation_unit_or_empty")
# pycparser 3's token stream keeps lexed tokens in ``_buffer`` and the
# position in ``_index``: the parser peeks at each token about five times,
# through three calls each; reading the buffer directly saves most of them.
_TOKEN_STREAM = getattr(pycparser.c_parser, "_TokenStream", None)
_Coord = getattr(pycparser.c_parser, "Coord", None)
# the tokens pycparser 3's _parse_primary_expression hands to _parse_constant
_LEAF_CONSTANTS = frozenset().union(*(getattr(pycparser.c_parser, name, ())
                                      for name in ("_INT_CONST", "_FLOAT_CONST", "_CHAR_CONST")))
# tokens that end an expression and are no operator of one
_LEAF_END = frozenset({"COMMA", "RPAREN", "SEMI", "RBRACKET", "RBRACE", "COLON"})
_FAST_TOKENS = _NEW_PARSER and _TOKEN_STREAM is not None and \
    {"_buffer", "_index"} <= set(_TOKEN_STREAM.__init__.__code__.co_names) and \
    hasattr(_TOKEN_STREAM, "_fill")


def _fast_lexer_class():
    """A GnuCLexer giving the same tokens as pycparser 3's lexer with less
    Python per token.  pycparser matches each token against one regex of
    about 25 alternatives (literals and error patterns first, identifiers
    last) and then looks the punctuators up by hand; here one regex tries
    the common tokens first -- blanks before the token, an identifier, a
    punctuator, a plain int constant, a string without escapes -- each
    written so that it matches only where pycparser gives that same token
    (no identifier glued to a quote, no "." before a digit, no "/" before
    "*" or "/", no int constant followed by a suffix, a dot or a letter).
    Anything else (directives, other literals, errors) goes through a
    second path that skips blanks with one match and then matches as
    pycparser does, and anything unusual there through pycparser's own
    code.  None when pycparser's internals are not the ones this was
    written against."""
    from pycparser import c_lexer as cl
    from pycparserext.ext_c_lexer import GnuCLexer
    try:
        regex_master, actions = cl._regex_master, cl._regex_actions
        fixed, keywords, Token = cl._fixed_tokens_by_first, cl._keyword_map, cl.Token
        TOKEN, ID = cl._RegexAction.TOKEN, cl._RegexAction.ID
        ident = cl._identifier
        CLexer = cl.CLexer
        CLexer._match_token, CLexer._make_token, CLexer.token  # noqa: B018
        punct_type = {e.literal: e.tok_type for bucket in fixed.values() for e in bucket}
    except AttributeError:
        return None
    blanks = re.compile(r"[ \t\n]+")
    original_token = GnuCLexer.token
    # punctuators longest first, so the alternation picks the longest
    guards = {".": "(?![0-9])", "/": "(?![*/])"}
    punct = "|".join(re.escape(lit) + guards.get(lit, "")
                     for lit in sorted(punct_type, key=lambda lit: -len(lit)))
    num_end = r"(?![0-9a-zA-Z_$.'\"])"
    common = re.compile(
        r"([ \t\n]*)(?:(" + ident + r")(?![0-9a-zA-Z_$\"'])"  # 2: identifier or keyword
        r"|(" + punct + ")"  # 3: punctuator
        r"|(0[xX][0-9a-fA-F]+)" + num_end +  # 4
        r"|(0[0-7]*)" + num_end +  # 5
        r"|([1-9][0-9]*)" + num_end +  # 6
        r'|("[^"\\\n]*"))').match  # 7
    group_type = (None, None, None, None, "INT_CONST_HEX", "INT_CONST_OCT", "INT_CONST_DEC", "STRING_LITERAL")

    class FastGnuCLexer(GnuCLexer):
        def token(self):
            if self._pending_tok is not None:
                return original_token(self)
            text = self._lexdata
            pos = self._pos
            m = common(text, pos)
            if m is None:
                return self._other_token()
            group = m.lastindex
            start, end = m.span(group)
            if start != pos:
                lines = text.count("\n", pos, start)
                if lines:
                    self._lineno += lines
                    self._line_start = text.rfind("\n", pos, start) + 1
            value = text[start:end]
            self._pos = end
            if group == 2:
                tok_type = keywords.get(value)
                if tok_type is None:
                    if self.type_lookup_func(value):
                        tok_type = "TYPEID"
                    else:  # GnuCLexer's keywords are checked after the typedef names
                        tok_type = self._extra_keywords.get(value, "ID")
                return Token(tok_type, value, self._lineno, start - self._line_start + 1)
            if group != 3:
                return Token(group_type[group], value, self._lineno, start - self._line_start + 1)
            tok_type = punct_type[value]
            tok = Token(tok_type, value, self._lineno, start - self._line_start + 1)
            if tok_type == "LBRACE":
                self.on_lbrace_func()
            elif tok_type == "RBRACE":
                self.on_rbrace_func()
            return tok

        def _other_token(self):
            text = self._lexdata
            n = len(text)
            pos = self._pos
            while pos < n:
                c = text[pos]
                if c == " " or c == "\t" or c == "\n":
                    end = blanks.match(text, pos).end()
                    lines = text.count("\n", pos, end)
                    if lines:
                        self._lineno += lines
                        self._line_start = text.rfind("\n", pos, end) + 1
                    self._pos = pos = end
                    continue
                if c == "#":
                    return original_token(self)
                m = regex_master.match(text, pos)
                if m is not None:
                    tok_type = m.lastgroup
                    value = m.group(tok_type)
                    length = len(value)
                    action = actions[tok_type][0]
                else:
                    length = -1
                # the longest match wins; a fixed token (the first of its
                # bucket that matches, the buckets are sorted longest first)
                # only when it is longer, as in CLexer._match_token
                bucket = fixed.get(c)
                if bucket:
                    for entry in bucket:
                        if text.startswith(entry.literal, pos):
                            if length < 0 or len(entry.literal) > length:
                                tok_type, value, length, action = entry.tok_type, entry.literal, \
                                    len(entry.literal), TOKEN
                            break
                if length < 0 or (action is not TOKEN and action is not ID):
                    return original_token(self)  # an error: reported as pycparser does
                if action is ID:
                    tok_type = keywords.get(value, "ID")
                    if tok_type == "ID" and self.type_lookup_func(value):
                        tok_type = "TYPEID"
                tok = Token(tok_type, value, self._lineno, pos - self._line_start + 1)
                self._pos = pos + length
                if tok_type == "LBRACE":
                    self.on_lbrace_func()
                elif tok_type == "RBRACE":
                    self.on_rbrace_func()
                elif tok_type == "ID":
                    extra = self._extra_keywords.get(value)
                    if extra is not None:
                        tok.type = extra
                return tok
            return None

    return FastGnuCLexer


class _CarryingParser(GnuCParser):
    """GnuCParser whose file scope is a dict we own, so typedef names
    declared by one chunk stay known when the next chunk is parsed."""

    if _NEW_PARSER:
        lexer_class = _fast_lexer_class() or GnuCParser.lexer_class

    def __init__(self, **kwds):
        if _NEW_PARSER:
            super().__init__(**kwds)
        else:  # PLY's tables: from lifecheck's cache folder, never the current one
            plytables.init_parser(self, **kwds)
        self.file_scope: Dict[str, bool] = {}
        self._coords: Dict[Tuple[int, Optional[int]], object] = {}
        # names read as the left operand of a product that is assigned to
        # or thrown away (``Foo *p = x;``, ``Foo *p;``): a declaration with
        # a type name the parser does not know, read as an expression
        # (pycparser 3 only; reset for each chunk)
        self.misread: List[str] = []
        if _NEW_PARSER and type(self)._lex_type_lookup_func is pycparser.c_parser.CParser._lex_type_lookup_func:
            # (that method only calls this one: one call less per identifier)
            self.clex.type_lookup_func = self._is_type_in_scope

    if _NEW_PARSER:
        def _parse_translation_unit_or_empty(self):
            self._scope_stack = [self.file_scope]
            return pycparser.c_parser.CParser._parse_translation_unit_or_empty(self)

        def parse_chunk(self, text: str, filename: str) -> c_ast.FileAST:
            self.misread = []
            return pycparser.c_parser.CParser.parse(self, text, filename)

        def _parse_expression_statement(self):
            expr = pycparser.c_parser.CParser._parse_expression_statement(self)
            first = expr.exprs[0] if type(expr) is c_ast.ExprList else expr
            if type(first) is c_ast.BinaryOp and first.op == "*" and type(first.left) is c_ast.ID:
                self.misread.append(first.left.name)  # "Foo *p;", "Foo *p, *q;"
            return expr

        if _FAST_TOKENS:
            # the same answers as CParser's token helpers, without the calls
            # through _TokenStream.peek/next and _fill when the token is
            # already in the buffer
            def _peek(self, k: int = 1):
                ts = self._tokens
                i = ts._index + k - 1
                buf = ts._buffer
                if k > 0 and i < len(buf):
                    return buf[i]
                return ts.peek(k)

            def _peek_type(self, k: int = 1):
                ts = self._tokens
                i = ts._index + k - 1
                buf = ts._buffer
                tok = buf[i] if k > 0 and i < len(buf) else ts.peek(k)
                return tok.type if tok is not None else None

            def _accept(self, token_type: str):
                ts = self._tokens
                i = ts._index
                buf = ts._buffer
                tok = buf[i] if i < len(buf) else ts.peek(1)
                if tok is not None and tok.type == token_type:
                    ts._index = i + 1
                    return tok
                return None

            def _advance(self):
                ts = self._tokens
                i = ts._index
                buf = ts._buffer
                if i >= len(buf):
                    ts._fill(1)
                tok = buf[i]
                ts._index = i + 1
                if tok is None:
                    self._parse_error("At end of input", self.clex.filename)
                return tok

        if _FAST_TOKENS:
            def _try_parse_paren_type_name(self):
                """pycparser's, which asks twice per leaf of every
                expression, answered at once when no "(" comes next."""
                if self._peek_type() != "LPAREN":
                    return None
                return pycparser.c_parser.CParser._try_parse_paren_type_name(self)

        def _coord(self, lineno, column=None):
            """pycparser's Coord, one object per place of a file (nodes
            only read them): a fifth of the parser's objects were Coords."""
            key = (lineno, column)
            coord = self._coords.get(key)
            if coord is None or coord.file != self.clex.filename:
                coord = self._coords[key] = _Coord(file=self.clex.filename, line=lineno, column=column)
            return coord

        # pycparser returns a statement expression "({ ... })" as a whole
        # assignment expression, so "({ ... }) & 1" (QEMU's qatomic_read)
        # fails; GnuCParser already parses it as a primary expression.
        def _parse_assignment_expression_slow(self):
            expr = self._parse_conditional_expression()
            if self._is_assignment_op():
                if type(expr) is c_ast.BinaryOp and expr.op == "*" and type(expr.left) is c_ast.ID:
                    self.misread.append(expr.left.name)  # "Foo *p = x": no C assigns to a product
                op = self._advance().value
                rhs = self._parse_assignment_expression()
                return c_ast.Assignment(op, expr, rhs, expr.coord)
            return expr

        if _FAST_TOKENS and _LEAF_CONSTANTS:
            def _parse_assignment_expression(self):
                """A name or a constant that ends the expression (``f(s, 0)``,
                ``return ret;``, ``a[i]``: a third of all expressions) is
                parsed where pycparser would get to it through ten levels of
                calls that each find nothing to do (no cast or unary
                operator before it, no postfix, binary, conditional or
                assignment operator after it).  The token after it is lexed
                no earlier than pycparser's postfix loop would lex it."""
                tok = self._peek()
                if tok is not None and (tok.type == "ID" or tok.type in _LEAF_CONSTANTS):
                    after = self._peek(2)
                    if after is not None and after.type in _LEAF_END:
                        return self._parse_identifier() if tok.type == "ID" else self._parse_constant()
                return self._parse_assignment_expression_slow()
        else:
            _parse_assignment_expression = _parse_assignment_expression_slow

        # GNU "a ?: b" means "a ? a : b".
        def _parse_conditional_expression(self):
            expr = self._parse_binary_expression()
            if self._accept("CONDOP"):
                if self._peek_type() == "COLON":
                    iftrue = expr
                else:
                    iftrue = self._parse_expression()
                self._expect("COLON")
                iffalse = self._parse_conditional_expression()
                return c_ast.TernaryOp(expr, iftrue, iffalse, expr.coord)
            return expr
    else:  # pycparser 2.x (PLY), used on Python 3.9
        def parse_chunk(self, text: str, filename: str) -> c_ast.FileAST:
            self.clex.filename = filename
            self.clex.reset_lineno()
            self._scope_stack = [self.file_scope]
            self._last_yielded_token = None
            return self.cparser.parse(input=text, lexer=self.clex, debug=False)


_PARSER: Optional[_CarryingParser] = None
# header typedef chunk text -> typedef names it declares (process-wide)
_TYPEDEF_CACHE: Dict[str, Tuple[str, ...]] = {}
# header segment text -> its chunks (process-wide, see split_chunks)
_SEGMENT_CACHE: SegmentCache = {}
# id of a segment's chunk list -> (the list, the typedef names its chunks
# declare as a dict name -> True, the QOM casts they define): a segment
# seen again is handled in one step instead of chunk by chunk
_SEGMENT_SUMMARIES: Dict[int, Tuple[List[Chunk], Dict[str, bool], Tuple[str, ...]]] = {}


def discard_parser() -> None:
    """Forget the shared parser, e.g. after its work was interrupted by a
    time limit: a parser stopped half-way must not parse the next file."""
    global _PARSER
    _PARSER = None


def _parser() -> _CarryingParser:
    global _PARSER
    if _PARSER is None:
        _PARSER = _CarryingParser()
    return _PARSER


# A string or character literal, and the name right after a string when a
# string follows it: ``"mfn %"PRI_xen_pfn", port"`` -- a macro of a
# stubbed header that would have expanded to a string (no C puts a name
# between two strings).  Every literal is matched whole, so nothing inside
# one is taken for a name.
_LITERAL_RE = re.compile(r'("(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')(?:(\s*)([A-Za-z_]\w*)(?=\s*"))?')


def _string_macro(m: "re.Match") -> str:
    if m.group(3) is None or not m.group(1).startswith('"') or m.group(3) in _C_WORDS:
        return m.group(0)
    return m.group(1) + m.group(2) + '""'


# Textual rewrites tried, in order, on a main-file chunk that failed to
# parse.  Each turns a GNU construct pycparser rejects, or a use of a macro
# whose header the tree does not have, into plain C with the same calls and
# the same lines.
_REWRITES = (
    ("elvis", re.compile(r"\?\s*:"), "? 0 :"),
    ("asm goto", re.compile(r"\basm\s+(?:volatile\s+)?goto\b"), "asm volatile"),
    ("case range", re.compile(r"(\bcase\s+[^:;]*?)\s*\.\.\.\s*([^:;]*?:)"), r"\1 : case \2"),
    ("empty initializer", re.compile(r"=\s*\{\s*\}"), "= {0}"),
    ("string macro", _LITERAL_RE, _string_macro),
    # ``static void LIBUSB_CALL f(...)``: a calling-convention macro
    # (capitals) between a function's return type and its name
    ("calling convention", re.compile(
        r"^(\s*(?:(?:static|inline|extern|const|unsigned|signed)\s+)*"
        r"(?!(?:static|inline|extern|const|unsigned|signed)\b)[A-Za-z_]\w*(?:\s*\*+\s*|\s+))"
        r"[A-Z][A-Z0-9_]{2,}(\s+\**\s*[a-z_]\w*\s*\()"), r"\1\2"),
    # ``fdt_for_each_property_offset(o, fdt, node) { ... }``: a loop macro
    # (no C statement is a call followed by a block), kept as a for loop
    # whose init is the call
    ("loop macro", re.compile(
        r"([;{}]\s*)((?!(?:if|while|for|switch|return|sizeof|else|do)\b)[A-Za-z_]\w*\s*"
        r"\((?:[^();{}]|\([^();{}]*\))*\))(\s*\{)"), r"\1for (\2;;)\3"),
)


# The instance cast functions OBJECT_DECLARE_TYPE() defines in headers.
_QOM_CAST_RE = re.compile(r"static\s+inline\s+[\w\s]+\*\s*([A-Za-z_]\w*)\s*\(\s*const\s+void\s*\*")


@dataclass
class ParsedChunk:
    chunk: Chunk
    ast: c_ast.FileAST
    rewrites: Tuple[str, ...] = ()
    # names taken as type names to parse it (see guess.py), in order of use
    guessed: Tuple[str, ...] = ()


@dataclass
class ParseResult:
    parsed: List[ParsedChunk] = field(default_factory=list)
    failed: List[Tuple[Chunk, str]] = field(default_factory=list)
    functions_found: int = 0
    functions_recovered: int = 0
    qom_casts: set = field(default_factory=set)


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply (Python recursion limit)"
    msg = str(exc)
    m = re.search(r":\s*(before: .*|[^:]+)$", msg)
    text = m.group(1) if m else msg
    return text.strip()[:120]


def _parse_text(parser: _CarryingParser, chunk: Chunk, text: str) -> c_ast.FileAST:
    saved = dict(parser.file_scope)
    try:
        return parser.parse_chunk(f'# {chunk.line} "{chunk.file}"\n{text}\n', chunk.file)
    except Exception:
        parser.file_scope.clear()
        parser.file_scope.update(saved)
        raise


def parse_preprocessed(text: str, is_main) -> ParseResult:
    """Parse the chunks of one preprocessed translation unit.

    ``is_main(filename)`` tells whether a line-marker file name is the file
    being checked (its chunks are all parsed; header chunks only for
    typedef names)."""
    parser = _parser()
    parser.file_scope = {}
    parser._coords.clear()  # (after a file stopped half-way)
    result = ResultBuilder(parser)
    main_cache: Dict[str, bool] = {}

    def is_header(name: str) -> bool:
        main = main_cache.get(name)
        if main is None:
            main = main_cache[name] = bool(is_main(name))
        return not main
    scope = parser.file_scope
    qom_casts = result.result.qom_casts
    if len(_SEGMENT_SUMMARIES) > 2 * len(_SEGMENT_CACHE) + 1000:
        _SEGMENT_SUMMARIES.clear()  # the segment cache was emptied
    for part in split_chunks(text, _SEGMENT_CACHE, is_header, whole_segments=True):
        if type(part) is list:
            # a header segment seen before: what its chunks declare, at once
            summary = _SEGMENT_SUMMARIES.get(id(part))
            if summary is None or summary[0] is not part:
                summary = _SEGMENT_SUMMARIES[id(part)] = (part,) + result.header_segment(part)
            scope.update(summary[1])
            qom_casts.update(summary[2])
            continue
        chunk = part
        main = main_cache.get(chunk.file)
        if main is None:
            main = main_cache[chunk.file] = bool(is_main(chunk.file))
        if main:
            result.main_chunk(chunk)
        else:
            result.header_chunk(chunk)
    # the nodes hold their Coords: kept here, they would be alive (and
    # traversed by the garbage collector) after the file
    parser._coords.clear()
    return result.result


class ResultBuilder:
    def __init__(self, parser: _CarryingParser):
        self.parser = parser
        self.result = ParseResult()

    def header_chunk(self, chunk: Chunk) -> Tuple[str, ...]:
        """A chunk of a header: the typedef names it declares are declared
        (and returned); the QOM cast a static inline function is noted."""
        if chunk.kind == TYPEDEF:
            return self.header_typedef(chunk)
        if chunk.kind == FUNCTION and "object_dynamic_cast_assert" in chunk.text:
            m = _QOM_CAST_RE.match(chunk.text)
            if m:
                self.result.qom_casts.add(m.group(1))
        return ()

    def header_segment(self, chunks: List[Chunk]) -> Tuple[Dict[str, bool], Tuple[str, ...]]:
        """The chunks of a header segment, one by one, as ``header_chunk``
        does; returns what they declared (names -> True, in order) and the
        QOM casts they define, for the next time the segment comes."""
        declared: Dict[str, bool] = {}
        casts: List[str] = []
        for chunk in chunks:
            if chunk.kind == TYPEDEF:
                for name in self.header_typedef(chunk):
                    declared[name] = True
            elif chunk.kind == FUNCTION and "object_dynamic_cast_assert" in chunk.text:
                m = _QOM_CAST_RE.match(chunk.text)
                if m:
                    casts.append(m.group(1))
        self.result.qom_casts.update(casts)
        return declared, tuple(casts)

    def header_typedef(self, chunk: Chunk) -> Tuple[str, ...]:
        names = _TYPEDEF_CACHE.get(chunk.text)
        if names is None:
            names = _simple_typedef_names(chunk.text)
            if names is None:
                try:
                    ast = _parse_text(self.parser, chunk, chunk.text)
                    names = tuple(n.name for n in ast.ext if isinstance(n, c_ast.Typedef) and n.name)
                except Exception:
                    names = tuple(iter_typedef_names_fallback(chunk.text))
            _TYPEDEF_CACHE[chunk.text] = names
        scope = self.parser.file_scope
        for name in names:
            scope[name] = True
        return names

    def main_chunk(self, chunk: Chunk) -> None:
        if chunk.kind == TAG and _declare_enumerators(chunk.text, self.parser.file_scope):
            return  # an enum definition: all it does is declare its constants
        is_function = chunk.kind == FUNCTION
        if is_function:
            self.result.functions_found += 1
        first_error: Optional[Exception] = None
        text, applied = chunk.text, ()
        for text, applied in _attempts(chunk.text):
            try:
                ast = _parse_text(self.parser, chunk, text)
            except Exception as exc:  # ParseError, and on odd input others
                first_error = first_error or exc
                continue
            if self.parser.misread:
                # parsed, but a declaration of a type it does not know was
                # read as a product: parsed again with the types guessed
                # when that works
                parsed = self._parse_guessing(chunk, text)
                if parsed is not None:
                    ast, guessed = parsed
                    applied, parsed_with = applied + ("unknown types",), guessed
                else:
                    parsed_with = ()
                self.result.parsed.append(ParsedChunk(chunk, ast, applied, parsed_with))
            else:
                self.result.parsed.append(ParsedChunk(chunk, ast, applied))
            if is_function:
                self.result.functions_recovered += 1
            return
        parsed = self._parse_guessing(chunk, text)
        if parsed is not None:
            ast, guessed = parsed
            self.result.parsed.append(ParsedChunk(chunk, ast, applied + ("unknown types",), guessed))
            if is_function:
                self.result.functions_recovered += 1
            return
        if chunk.kind == TYPEDEF:
            for name in iter_typedef_names_fallback(chunk.text):
                self.parser.file_scope[name] = True
        self.result.failed.append((chunk, _reason(first_error)))

    def _parse_guessing(self, chunk: Chunk, text: str) -> Optional[Tuple[c_ast.FileAST, Tuple[str, ...]]]:
        """Parse ``text`` (a chunk that failed as it is) once more, with the
        names it uses where only a type can stand declared as typedef
        names (see guess.py); (the AST, those names) or None.  The names
        are declared for this chunk only: a later chunk that needs them
        guesses them again, and says so."""
        scope = self.parser.file_scope
        names = guess_type_names(text, scope)
        if not names:
            return None
        for name in names:
            scope[name] = True
        keep = set()
        try:
            ast = _parse_text(self.parser, chunk, text)
            # (a typedef the chunk itself declares stays declared)
            keep = {n.name for n in ast.ext if isinstance(n, c_ast.Typedef)}
            return ast, tuple(names)
        except Exception:
            return None
        finally:
            for name in names:
                if name not in keep and scope.get(name) is True:
                    del scope[name]


# "enum [TAG] { A, B = EXPR, ... } [attributes];" whose values are plain
# integer expressions: names, int constants, operators, parentheses.
_ENUM_RE = re.compile(r"enum\s*(?:[A-Za-z_]\w*\s*)?\{([\w\s()+\-*/%<>|&^~!?:,=]*)\}"
                      r"\s*(?:__attribute__\s*\(\([\w\s,()]*\)\)\s*)*;")
_ENUMERATOR_RE = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:=|$)")
_WORD_RE = re.compile(r"[A-Za-z_]\w*")


def _declare_enumerators(text: str, scope: Dict[str, bool]) -> bool:
    """For a main-file enum definition with no declarator, do to the file
    scope what parsing it would do, without the parser, and say so (True).
    Register enums (QEMU's REG32() and FIELD() make several per register)
    are a good part of a device file, and the model wants nothing from
    them but this.

    What pycparser 3 does: the lexer opens a scope at "{" and closes it
    when it reads "}", which the parser reads ahead while finishing the
    last enumerator; so only the last enumerator is declared in the file
    scope, and only when no comma follows it.  False (nothing done: parse
    it) with the PLY-based pycparser 2, when a value is more than an
    integer expression of names and int constants, or a name there is a
    typedef name (lexed as one: pycparser's error, or a cast): then
    parsing could do anything else."""
    if not _NEW_PARSER:
        return False
    m = _ENUM_RE.fullmatch(text)
    if m is None:
        return False
    body = m.group(1)
    items = []
    depth, start = 0, 0
    for i, c in enumerate(body):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    trailing_comma = len(items) > 1 and not items[-1].strip()
    if trailing_comma:
        items.pop()
    if depth != 0:
        return False
    last = ""
    for item in items:
        e = _ENUMERATOR_RE.match(item)
        if e is None or e.group(1) in _C_WORDS or scope.get(e.group(1)):
            return False  # a typedef name is lexed as one: pycparser's error
        for word in _WORD_RE.findall(item[e.end():]):
            if word in _C_WORDS or scope.get(word) or word.startswith("__"):
                return False  # a keyword, a cast to a typedef name, a builtin
        last = e.group(1)
    if not trailing_comma:
        scope[last] = False
    return True


# "typedef WORDS *NAME;" (after dropping a struct/union/enum body): the
# declared name is the last word.  Most header typedefs look like this, and
# reading them needs no parser.
_SIMPLE_TYPEDEF_RE = re.compile(r"typedef\s+((?:[A-Za-z_]\w*\s+)+)\**\s*([A-Za-z_]\w*)\s*;")
_BODY_RE = re.compile(r"\{.*\}", re.S)


def _simple_typedef_names(text: str) -> Optional[Tuple[str, ...]]:
    """The name a simple one-declarator typedef declares, or None when the
    chunk needs the parser (several declarators, arrays, function types,
    attributes outside the body)."""
    if "{" in text:
        text = _BODY_RE.sub(" ", text)
    m = _SIMPLE_TYPEDEF_RE.fullmatch(text)
    if m is None:
        return None
    words = m.group(1).split()
    name = m.group(2)
    if name in _C_WORDS or any(w in ("typedef", "__attribute__", "__extension__") for w in words):
        return None
    return (name,)


_C_WORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Bool _Complex typeof asm
""".split())


def _attempts(text: str):
    """The chunk as written, then with each rewrite that changes it added."""
    yield text, ()
    applied: Tuple[str, ...] = ()
    for name, pattern, repl in _REWRITES:
        new = pattern.sub(repl, text)
        if new != text:
            text, applied = new, applied + (name,)
            yield text, applied
