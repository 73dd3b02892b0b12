"""Literals the decimal context cannot hold are refused, never left to overflow (found by the
fuzz test: 9**9**91e999999)."""

import pytest

from rules import RuleError, compile_expression, interpret


@pytest.mark.parametrize(
    "text", ["abs(91e999999)", "-91e999999", "+91e999999", "9**9**91e999999", "floor(9e1000000)"]
)
def test_huge_literals_are_refused_by_both_paths(text):
    with pytest.raises(RuleError):
        compile_expression(text).evaluate({})
    with pytest.raises(RuleError):
        interpret(text, {})
