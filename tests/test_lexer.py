"""The fast lexer gives pycparser's tokens, one for one.

``parse._fast_lexer_class()`` replaces pycparser 3's per-token regex of
about 25 alternatives with one that tries the common tokens first, and
falls back to pycparser's own code for the rest.  Whatever the input, the
two must give the same tokens (type, text, line, column), report the same
errors, and call the brace callbacks at the same moments (pycparser opens
and closes scopes from them), with the typedef names known at that moment.
"""
from __future__ import annotations

import pytest

from lifecheck.frontend import parse

FAST = parse._fast_lexer_class() if parse._NEW_PARSER else None
pytestmark = pytest.mark.skipif(FAST is None, reason="the fast lexer is only built for pycparser 3")

TYPEDEFS = {"Foo", "uint32_t", "L", "u8"}

# every kind of token, and the places where the fast path must not decide:
# prefixed literals (L"", u8'', U""), numbers with suffixes, floats written
# with a dot or an exponent, bad octal, comments (pycparser reports them),
# escapes, directives and pragmas, stray characters, '$' in names
CASES = [
    'int main(void) { return 0; }',
    'static Foo *foo_new(uint32_t n) { Foo *f = g_new0(Foo, 1); f->n = n; return f; }',
    'x = L"wide" u8"utf" u"16" U"32" L\'c\' u8\'c\' u\'c\' U\'c\' "plain" "esc\\"aped" \'\\n\' \'ab\';',
    'a = 0 + 00 + 07 + 08 + 0x1F + 0X1f + 0b101 + 1u + 1UL + 1ull + 10LL + 0x10ULL + 123;',
    'f = .5 + 1. + 1.5e3 + 1e-3 + 0x1p3 + 0x1.8p1 + 1.5f + 2.0L + 3..4;',
    'a->b.c[1] <<= 2; d >>= e... f ? g : h; i != j && k || !l; m %= n ^= o |= p &= q;',
    'p /= q; r = s / t; /* comment */ u = v // line\n;',
    '# 12 "hw/misc/x.c"\nint y;\n# 40 "include/qemu/osdep.h" 2\ntypedef int Foo;\n',
    '#pragma GCC diagnostic push\nint z;\n  #  pragma once\n# bad directive\n',
    'int $dollar = a$b; @ ` \\ \x01 int q;',
    'Foo Foo; { Foo x; int Foo; Foo y; } L u8 u U',
    '__attribute__((unused)) __asm__ volatile("nop"); __typeof__(x) y; __extension__ ({ 1; });',
    '"unterminated\nint after;',
    "'\nint after_quote;",
    "\t\tint\ttabs ;\n\n\n   x\t=  1 ;\n",
    'x = "a" "b"\n"c";',
    '',
    '   \n\n  ',
    '1a 0x 0xg 09.5 0e 0.e1 .e1 1_000',
]


def _tokens(cls, text: str):
    out = []
    scopes = [set(TYPEDEFS)]

    def lookup(name: str) -> bool:
        return name in scopes[-1]

    def lbrace() -> None:
        out.append(("{callback", len(scopes)))
        scopes.append(set(scopes[-1]) - {"Foo"})   # "int Foo;" in the block shadows it

    def rbrace() -> None:
        out.append(("}callback", len(scopes)))
        if len(scopes) > 1:
            scopes.pop()

    lexer = cls(lambda msg, line, col: out.append(("error", msg, line, col)), lbrace, rbrace, lookup)
    lexer.input(text, "t.c")
    while True:
        tok = lexer.token()
        if tok is None:
            break
        out.append((tok.type, tok.value, tok.lineno, tok.column, lexer.filename))
    return out


@pytest.mark.parametrize("text", CASES)
def test_fast_lexer_gives_pycparsers_tokens(text):
    from pycparserext.ext_c_lexer import GnuCLexer
    assert _tokens(FAST, text) == _tokens(GnuCLexer, text)


def test_the_cases_reach_both_paths_and_the_errors():
    from pycparserext.ext_c_lexer import GnuCLexer
    kinds = {t[0] for text in CASES for t in _tokens(GnuCLexer, text)}
    # identifiers, typedef names, keywords, GNU keywords, punctuators,
    # literals the fast path reads and literals it leaves to pycparser
    assert {"ID", "TYPEID", "INT", "__ATTRIBUTE__", "ARROW", "ELLIPSIS", "INT_CONST_DEC", "INT_CONST_OCT",
            "INT_CONST_HEX", "STRING_LITERAL", "WSTRING_LITERAL", "U8CHAR_CONST", "FLOAT_CONST",
            "HEX_FLOAT_CONST", "PPPRAGMA", "PPHASH", "error"} <= kinds


hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs the test extra (hypothesis)")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# pieces that meet in every order: words, numbers, punctuation, quotes,
# blanks, directives
PIECES = ["Foo", "x", "L", "u8", "U", "int", "__asm__", "$", "0", "08", "0x", "1", "2u", "e", ".", "..",
          "/", "*", "=", "<", ">", "-", "+", "&", "|", "!", "?", ":", ";", ",", "(", ")", "[", "]",
          "{", "}", '"', "'", "\\", " ", "\t", "\n", "\n# 3 \"f.c\"\n", "\n#pragma x\n", "#", "@", "\r"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_fast_lexer_gives_pycparsers_tokens_on_any_mix(pieces):
    from pycparserext.ext_c_lexer import GnuCLexer
    text = "".join(pieces)
    assert _tokens(FAST, text) == _tokens(GnuCLexer, text)


# -- enum definitions declared without the parser ----------------------------

ENUMS = [
    "enum { A, B, C };",
    "enum { A, B, C, };",
    "enum t { A = 1 << 3, B = (A | 2), C = 0x10u };",
    "enum { R_CTRL = 0x10 / 4, R_CTRL_EN_SHIFT = 3, R_CTRL_EN_MASK = ((1 << 1) - 1) << 3 };",
    "enum { ONLY };",
    "enum { ONLY, };",
    "enum { Foo };",                # a typedef name redeclared: pycparser's error
    "enum { Foo, X };",             # inside the braces' scope: no error
    "enum { A = (Foo)1, B };",      # a cast to a typedef name
    "enum { A = sizeof(int), B };",
    "enum e { A, B } __attribute__((packed));",
    "enum e { A, B } var;",         # a declarator: parsed
    "enum { A = 'x' };",
]


def _scope_after_parse(text, scope):
    parser = parse._CarryingParser()
    parser.file_scope = dict(scope)
    try:
        parser.parse_chunk(f'# 1 "t.c"\n{text}\n', "t.c")
    except Exception:
        return None
    return parser.file_scope


@pytest.mark.parametrize("text", ENUMS)
def test_enum_definitions_declare_what_parsing_them_declares(text):
    scope = {"Foo": True, "uint32_t": True, "B": False}
    mine = dict(scope)
    if parse._declare_enumerators(text, mine):
        assert _scope_after_parse(text, scope) == mine
    else:
        assert mine == scope    # nothing done: the chunk is parsed


def test_most_enum_definitions_need_no_parser():
    skipped = [t for t in ENUMS if parse._declare_enumerators(t, {"Foo": True})]
    assert len(skipped) == 7


NAMES = ["A", "B", "Foo", "x1"]
VALUES = ["", " = 1", " = A + 1", " = (1 << 2)", " = 0x1fu", " = (Foo)1", " = B | x1"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES)), min_size=1, max_size=5),
       st.booleans(), st.sampled_from(["", "tag "]))
def test_enum_definitions_declare_what_parsing_them_declares_any_mix(items, comma, tag):
    text = "enum " + tag + "{ " + ", ".join(n + v for n, v in items) + ("," if comma else "") + " };"
    scope = {"Foo": True, "B": False}
    mine = dict(scope)
    if parse._declare_enumerators(text, mine):
        assert _scope_after_parse(text, scope) == mine


# -- the parser's shortcuts (a name or constant ending an expression, no "("
# for a parenthesised type name, Coords shared) against pycparser's way ---

def _parse_both(text, scope=("Foo",)):
    """The AST (with every node's coordinates) and the file scope after
    parsing ``text`` with the leaf shortcut and pycparser's own descent; a
    parse error counts as a result."""
    import pycparser
    from lifecheck.frontend.astwalk import preorder
    cparser = pycparser.c_parser.CParser
    slow_class = type("Slow", (parse._CarryingParser,), {
        "_parse_assignment_expression": parse._CarryingParser._parse_assignment_expression_slow,
        "_coord": cparser._coord, "_try_parse_paren_type_name": cparser._try_parse_paren_type_name})
    slow = slow_class()
    slow.clex.type_lookup_func = slow._lex_type_lookup_func
    results = []
    for parser in (parse._CarryingParser(), slow):
        parser.file_scope = {name: True for name in scope}
        try:
            ast = parser.parse_chunk(f'# 1 "t.c"\n{text}\n', "t.c")
            got = (repr(ast), [(type(n).__name__, str(n.coord)) for n in preorder(ast)])
        except Exception as exc:  # noqa: BLE001 - the error is the result
            got = ("error", str(exc))
        results.append((got, parser.file_scope))
    return results


LEAVES = [
    "void f(void) { g(a, 0, 'c', 1.5, \"s\", 0x1fUL, 07, Foo); }",
    "int f(int x) { if (x) return x; while (y) { z; } return a[i] + b[0]; }",
    "int f(void) { return c ? y : z; }",
    "int t[] = { 1, k, [2] = 3, }; struct s v = { .a = b, .c = 4 };",
    "void f(void) { switch (x) { case A: y = b; break; default: ; } }",
    "void f(void) { x = y; x += 1; x++; -x; !y; (Foo) z; sizeof(Foo); ({ int q; q; }); }",
    "void f(void) { Foo Foo; Foo = 1; f(Foo); }",   # a typedef name shadowed by a variable
    "void f(void) { a->b; s.c; p[1]; f(g)(h); x ?: y; }",
    "void f(void) { g(1ulu, 08); }",                # bad constants: the same error
]


@pytest.mark.parametrize("text", LEAVES)
def test_leaf_expressions_parse_as_pycparser_parses_them(text):
    fast, slow = _parse_both(text)
    assert fast == slow


LEAF_PIECES = ["x", "Foo", "0", "0x1", "'c'", '"s"', "1.5", ",", ";", ")", "(", "]", "[", "}", "{",
               ":", "?", "=", "+", "*", "&", "->", ".", "y", "int", "return", "sizeof", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LEAF_PIECES), max_size=25))
def test_leaf_shortcut_on_any_body(pieces):
    fast, slow = _parse_both("void f(void) { " + " ".join(pieces) + " }")
    assert fast == slow
