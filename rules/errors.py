"""Errors of the rules engine.

Every error carries a stable ``code``, the place it concerns (document, table, row, column,
position in an expression) and its parameters, so that it can be shown in Chinese or English
(see :mod:`rules.messages`) and compared in tests without parsing prose.
"""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    """Base of every error raised by the rules engine."""

    def __init__(self, code: str, where: str = "", **params: Any) -> None:
        self.code = code
        self.where = where
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """The error as a sentence for a business user, in ``lang`` ("zh" or "en")."""
        from rules.messages import render_message

        text = render_message(self.code, lang, self.params)
        if not self.where:
            return text
        return f"{self.where}: {text}"


class ExpressionError(RuleError):
    """An expression or cell was refused before running (syntax, whitelist, limits)."""


class EvaluationError(RuleError):
    """An evaluation failed at run time (division by zero, type error, a limit reached)."""


class InputError(EvaluationError):
    """An input value is missing or outside its declared type or allowed values."""


class NoMatchError(EvaluationError):
    """Hit policy unique/any found conflicting rows, or a required match was missing."""


class DocumentError(RuleError):
    """A document could not be loaded; ``problems`` lists every finding of severity error."""

    def __init__(self, code: str, where: str = "", problems: list | None = None, **params: Any):
        self.problems = list(problems or [])
        super().__init__(code, where, **params)

    def message(self, lang: str = "en") -> str:
        head = super().message(lang)
        if not self.problems:
            return head
        lines = [head] + ["  - " + problem.message(lang) for problem in self.problems]
        return "\n".join(lines)
