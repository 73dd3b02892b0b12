"""Findings: what load-time checks and analysis report, with table, row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.messages import render_message
from rules.values import to_jsonable

ERROR, WARNING = "error", "warning"


@dataclass
class Finding:
    severity: str  # "error" blocks loading; "warning" is for the author to judge
    code: str
    document: str  # key of the table or rule set
    row: int | None = None  # 1-based row of a decision table, or step number of a rule set
    column: str | None = None  # input or output name
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        return self.place(lang) + render_message(self.code, lang, self.params)

    def place(self, lang: str = "zh") -> str:
        zh = lang.startswith("zh")
        parts = [f"「{self.document}」" if zh else f"'{self.document}'"]
        if self.row is not None:
            parts.append(f"第 {self.row} 行" if zh else f"row {self.row}")
        if self.column:
            parts.append(f"列 {self.column}" if zh else f"column {self.column}")
        return (" ".join(parts) + "：") if zh else (", ".join(parts) + ": ")

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "document": self.document,
            "row": self.row,
            "column": self.column,
            "params": to_jsonable(self.params),
            "message_zh": self.message("zh"),
            "message_en": self.message("en"),
        }

    def __str__(self) -> str:
        return self.message("en")
