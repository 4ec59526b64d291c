"""One-line mutation operators: exact text before and after, formatting kept, order fixed."""

from __future__ import annotations

import textwrap

import pytest

from suture.fix.remedies.mutations import OPERATORS, Mutant, mutants


def _src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _afters(source: str, line: int, operator: str) -> list[str]:
    return [m.after for m in mutants(source, line, (operator,))]


def test_comparison_swaps_nearest_boundary_first_and_keeps_the_rest_of_the_file() -> None:
    source = _src("""
        def in_range(x,   lo, hi):  # spacing kept
            return lo <= x < hi  # inclusive low
    """)
    found = mutants(source, 2, ("comparison",))
    assert [m.after for m in found] == [
        "return lo < x < hi  # inclusive low",
        "return lo >= x < hi  # inclusive low",
        "return lo > x < hi  # inclusive low",
        "return lo == x < hi  # inclusive low",
        "return lo != x < hi  # inclusive low",
        "return lo <= x <= hi  # inclusive low",
        "return lo <= x > hi  # inclusive low",
        "return lo <= x >= hi  # inclusive low",
        "return lo <= x != hi  # inclusive low",
        "return lo <= x == hi  # inclusive low",
    ]
    first = found[0]
    assert first.description == "Change `<=` to `<`"
    assert first.before == "return lo <= x < hi  # inclusive low"
    assert first.source == source.replace("lo <= x", "lo < x")
    assert first.operator == "comparison" and first.line == 2


def test_membership_and_identity_flip() -> None:
    source = "if a in b and c is not None:\n    pass\n"
    assert _afters(source, 1, "comparison") == [
        "if a not in b and c is not None:", "if a in b and c is None:"]


def test_off_by_one_on_literals_bounds_and_a_dropped_one() -> None:
    source = _src("""
        def tail(items, n):
            return items[n - 1:len(items)]
    """)
    # Dropping the `- 1` comes first; `n - 0` would only say the same thing worse.
    assert _afters(source, 2, "off-by-one") == [
        "return items[n:len(items)]",
        "return items[n - 2:len(items)]",
        "return items[n - 1:len(items) + 1]",
        "return items[n - 1:len(items) - 1]",
    ]
    assert mutants(source, 2, ("off-by-one",))[0].description == "Change `n - 1` to `n`"


def test_dropping_a_one_keeps_the_parentheses_it_needs() -> None:
    assert _afters("y = c * (a - b + 1)\n", 1, "off-by-one")[0] == "y = c * (a - b)"


def test_off_by_one_on_range_arguments_and_below_zero() -> None:
    source = "for i in range(0, n):\n    print(i)\n"
    assert _afters(source, 1, "off-by-one") == [
        "for i in range(1, n):",
        "for i in range(-1, n):",
        "for i in range(0, n + 1):",
        "for i in range(0, n - 1):",
    ]


def test_boolean_swap_constant_swap_and_arithmetic() -> None:
    assert _afters("ok = a and b\n", 1, "boolean") == ["ok = a or b"]
    assert _afters("flag = True\n", 1, "constant") == ["flag = False"]
    assert _afters("return_value = a // b\n", 1, "arithmetic") == [
        "return_value = a / b", "return_value = a % b", "return_value = a * b",
        "return_value += a // b"]
    assert _afters("total += x\n", 1, "arithmetic") == [
        "total -= x", "total *= x", "total = x"]


def test_assignment_becomes_an_accumulation_unless_it_adds_nothing() -> None:
    assert _afters("total = dose\n", 1, "arithmetic") == ["total += dose"]
    assert _afters("found = []\n", 1, "arithmetic") == []
    assert _afters("count = 0\n", 1, "arithmetic") == []


def test_builtin_twins() -> None:
    assert _afters("low = max(a, b) if any(xs) else 0\n", 1, "builtin") == [
        "low = min(a, b) if any(xs) else 0", "low = max(a, b) if all(xs) else 0"]
    assert _afters("m = maximum(a)\n", 1, "builtin") == []


def test_negation_wraps_an_if_condition_and_removes_a_not() -> None:
    source = _src("""
        def f(a, b):
            if a > b and not done(a):
                return 1
            return 0
    """)
    found = mutants(source, 2, ("negation",))
    assert [m.after for m in found] == [
        "if a > b and done(a):",
        "if not (a > b and not done(a)):",
    ]
    assert found[1].description == "Change `a > b and not done(a)` to `not (a > b and not done(a))`"
    assert _afters("def g(x):\n    return x == 1\n", 2, "negation") == ["return not (x == 1)"]


def test_swap_call_arguments_and_non_commutative_operands() -> None:
    source = "r = clamp(value, low, key=1) - base\n"
    found = mutants(source, 1, ("swap",))
    assert [m.after for m in found] == [
        "r = clamp(low, value, key=1) - base",
        "r = base - clamp(value, low, key=1)",
    ]
    assert found[0].description == "Swap `value` and `low` in `clamp(...)`"


def test_variable_uses_parameters_and_earlier_locals_only() -> None:
    source = _src("""
        def f(a, b):
            c = a
            return c + b
            later = 1
    """)
    assert _afters(source, 3, "variable") == [
        "return a + b", "return b + b", "return c + a", "return c + c"]


def test_delete_statement_or_replace_a_lone_one_with_pass() -> None:
    source = _src("""
        def f(items):
            items.sort()
            return items
        def g(x):
            x.clear()
    """)
    deleted = mutants(source, 2, ("delete",))
    assert [(m.after, m.description) for m in deleted] == [("", "Delete `items.sort()`")]
    assert deleted[0].source == "def f(items):\n    return items\ndef g(x):\n    x.clear()\n"
    assert _afters(source, 5, "delete") == ["pass"]


def test_imports_docstrings_and_pass_are_never_deleted() -> None:
    source = '"""Doc."""\nimport os\npass\n'
    assert [m for line in (1, 2, 3) for m in mutants(source, line, ("delete",))] == []


def test_default_order_is_the_operator_order_and_mutants_are_distinct() -> None:
    source = "def f(a, b):\n    return a < b + 1\n"
    found = mutants(source, 2)
    order = [m.operator for m in found]
    assert order == sorted(order, key=OPERATORS.index)
    assert len({m.source for m in found}) == len(found)
    assert all(isinstance(m, Mutant) and m.source != source for m in found)


@pytest.mark.parametrize("source, line", [
    ("def f(:\n", 1),  # does not parse
    ("x = 1\n", 5),  # no such line
    ("import os.path\n", 1),  # nothing any operator applies to
])
def test_nothing_to_mutate(source: str, line: int) -> None:
    assert mutants(source, line) == []


def test_only_nodes_wholly_on_the_line_are_mutated() -> None:
    source = "x = f(a <\n      b)\ny = 1 < 2\n"
    assert all(m.line == 1 for m in mutants(source, 1))
    assert mutants(source, 1, ("comparison",)) == []
    assert _afters(source, 3, "comparison")[0] == "y = 1 <= 2"


def test_crlf_line_endings_survive() -> None:
    source = "def f(x):\r\n    return x > 0\r\n"
    first = mutants(source, 2, ("comparison",))[0]
    assert first.source == "def f(x):\r\n    return x >= 0\r\n"
