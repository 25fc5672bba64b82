"""The frontend: chunking, chunked parsing with GNU C, locations."""
from __future__ import annotations

from lifecheck.frontend.chunks import FUNCTION, TAG, TYPEDEF, split_chunks
from lifecheck.frontend.parse import parse_preprocessed

PRE = '''# 1 "/t/include/x.h"
typedef struct Foo Foo;
struct Foo { int a; };
static inline int helper(int x) { return x; }
# 10 "/t/hw/a.c"
static int bad(void) { return ({ 1; }) & 1 ?: 2; }
int good(Foo *f)
{
    return f->a;
}
'''


def test_chunks_follow_line_markers():
    chunks = split_chunks(PRE)
    kinds = [(c.file, c.line, c.kind) for c in chunks]
    assert kinds == [
        ("/t/include/x.h", 1, TYPEDEF),
        ("/t/include/x.h", 2, TAG),
        ("/t/include/x.h", 3, FUNCTION),
        ("/t/hw/a.c", 10, FUNCTION),
        ("/t/hw/a.c", 11, FUNCTION),
    ]


def test_typedefs_carry_over_and_gnu_c_parses():
    result = parse_preprocessed(PRE, lambda f: f == "/t/hw/a.c")
    assert result.functions_found == 2
    assert result.functions_recovered == 2
    names = [p.ast.ext[0].decl.name for p in result.parsed]
    assert names == ["bad", "good"]
    good = result.parsed[1].ast.ext[0]
    assert good.decl.coord.line == 11


def test_one_bad_function_costs_only_itself():
    text = '# 1 "/t/a.c"\nint f(void) { return 1 +; }\nint g(void) { return 2; }\n'
    result = parse_preprocessed(text, lambda f: True)
    assert (result.functions_found, result.functions_recovered) == (2, 1)
    assert [c.line for c, _ in result.failed] == [1]


def test_unknown_library_types_are_guessed():
    text = '# 5 "/t/a.c"\nint f(cbor_item_t *map) { cbor_item_t *k = 0; return map == k; }\n'
    result = parse_preprocessed(text, lambda f: True)
    assert result.functions_recovered == 1
