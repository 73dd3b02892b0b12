"""Hard limits that keep hostile or broken rules from costing time or memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_expression_length: int = 2000  # characters of one expression or cell
    max_nesting_depth: int = 40  # brackets and syntax-tree depth
    max_nodes: int = 400  # syntax-tree nodes of one expression
    max_exponent: int = 100  # |b| in a ** b
    max_string_length: int = 10_000  # any string built while evaluating
    max_list_length: int = 1000  # any list literal
    max_eval_seconds: float = 1.0  # wall clock of one rule-set evaluation / interpreted run
    max_rows: int = 5000  # rows of one decision table
    max_columns: int = 60  # inputs + outputs of one decision table
    max_analysis_boxes: int = 20_000  # work bound of gap / reachability analysis


DEFAULT_LIMITS = Limits()
