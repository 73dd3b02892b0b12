"""Loading documents: compile once, cache by kind + key + version, resolve references.

``load_document(doc)`` compiles one ``decision_table`` or ``rule_set`` document. A
:class:`Library` holds many documents so that rule-set steps and ``lookup(...)`` calls can refer
to each other by key (optionally pinned to a version); it compiles each on first use and keeps it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from rules.cells import clear_cell_cache
from rules.errors import DocumentError, EvaluationError, ExpressionError
from rules.findings import ERROR, Finding
from rules.limits import DEFAULT_LIMITS, Limits
from rules.rulesets import RuleSet
from rules.tables import AGGREGATES, SINGLE_HIT, DecisionTable

KINDS = ("decision_table", "rule_set")
Compiled = DecisionTable | RuleSet

_CACHE: OrderedDict[tuple, Compiled] = OrderedDict()
_CACHE_SIZE = 512


def fingerprint(body: Any) -> str:
    """A digest of a document body: a changed draft under the same version is not served stale."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _split(document: Mapping) -> tuple[str, str, Any, Mapping]:
    if not isinstance(document, Mapping):
        raise DocumentError("bad_document", detail="a document must be a mapping")
    kind, key = document.get("kind"), document.get("key")
    if kind not in KINDS:
        raise DocumentError(
            "bad_document", str(key or ""), detail=f"kind must be one of {list(KINDS)}"
        )
    if not isinstance(key, str) or not key:
        raise DocumentError("bad_document", detail="a document needs a key")
    body = document.get("body")
    if not isinstance(body, Mapping):
        raise DocumentError("bad_document", key, detail="the body must be a mapping")
    return kind, key, document.get("version"), body


def load_document(
    document: Mapping, library: Library | None = None, limits: Limits = DEFAULT_LIMITS
) -> Compiled:
    """Compile a ``decision_table`` or ``rule_set`` document (cached).

    Raises DocumentError listing every problem (with table, row, column) when it cannot load.
    Analysis findings (overlaps, gaps, unreachable rows) are on the result's ``findings``.
    """
    if library is not None:
        return library.load(document)
    kind, key, version, body = _split(document)
    cache_key = (kind, key, str(version), fingerprint(body), limits)
    compiled = _CACHE.get(cache_key)
    if compiled is not None:
        _CACHE.move_to_end(cache_key)
        return compiled
    if kind == "decision_table":
        compiled = DecisionTable(key, version, body, limits=limits)
    else:
        # A rule set refers to other documents: without a library only expression steps work.
        compiled = RuleSet(key, version, body, limits=limits)
    _CACHE[cache_key] = compiled
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def clear_cache() -> None:
    """Forget every compiled document and parsed cell (tests, benchmarks of cold compiles)."""
    _CACHE.clear()
    clear_cell_cache()


class Library:
    """Documents by key and version; compiles each on first use and resolves references."""

    def __init__(self, documents: Iterable[Mapping] = (), limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._documents: dict[str, dict[str, Mapping]] = {}
        self._latest: dict[str, str] = {}
        self._compiled: dict[tuple[str, str, str], Compiled] = {}
        # get() by key and version, without re-hashing the document each time: a priced
        # product asks for the same few rule sets thousands of times a second.
        self._resolved: dict[tuple[str, str | None], Compiled] = {}
        self._loading: list[str] = []
        for document in documents:
            self.add(document)

    def add(self, document: Mapping) -> None:
        """Register a document (compiled lazily). The last added version of a key is the latest."""
        kind, key, version, body = _split(document)
        self._documents.setdefault(key, {})[str(version)] = document
        self._latest[key] = str(version)
        self._resolved = {k: v for k, v in self._resolved.items() if k[0] != key}

    def keys(self) -> list[str]:
        return list(self._documents)

    def get(self, key: str, version: Any = None) -> Compiled:
        """The compiled document ``key`` (latest version unless ``version`` pins one)."""
        resolved = self._resolved.get((key, None if version is None else str(version)))
        if resolved is not None:
            return resolved
        versions = self._documents.get(key)
        if not versions:
            raise DocumentError("unknown_table", key, key=key)
        wanted = self._latest[key] if version is None else str(version)
        document = versions.get(wanted)
        if document is None:
            raise DocumentError("unknown_table", key, key=f"{key}@{version}")
        compiled = self.load(document)
        self._resolved[(key, None if version is None else str(version))] = compiled
        return compiled

    def load(self, document: Mapping) -> Compiled:
        kind, key, version, body = _split(document)
        cache_key = (key, str(version), fingerprint(body))
        compiled = self._compiled.get(cache_key)
        if compiled is not None:
            return compiled
        if key in self._loading:
            cycle = self._loading[self._loading.index(key) :] + [key]
            raise DocumentError("dependency_cycle", key, keys=" -> ".join(cycle))
        self._loading.append(key)
        try:
            if kind == "decision_table":
                compiled = DecisionTable(
                    key, version, body, resolver=self.lookup, limits=self.limits
                )
            else:
                compiled = RuleSet(
                    key, version, body, documents=self.get, resolver=self.lookup, limits=self.limits
                )
        finally:
            self._loading.pop()
        self._compiled[cache_key] = compiled
        return compiled

    def lookup(self, key: str, argument_count: int):
        """Compile-time resolution of ``lookup("key", a, b, ...)`` in an expression.

        The arguments go to the table's inputs in declaration order; the value is its single
        output (None when no row matches).
        """
        try:
            table = self.get(key)
        except DocumentError:
            raise ExpressionError("lookup_unknown_table", key=key) from None
        if len(table.input_names) != argument_count:
            raise ExpressionError(
                "lookup_bad_arity", key=key, expected=len(table.input_names), got=argument_count
            )
        if len(table.output_names) != 1 or getattr(table, "hit_policy", "first") not in (
            SINGLE_HIT + AGGREGATES
        ):
            raise ExpressionError("lookup_multi_output", key=key)
        names, output = list(table.input_names), table.output_names[0]

        def look_up(*arguments: Any) -> Any:
            result = table.evaluate(dict(zip(names, arguments, strict=True)))
            return None if result is None else result.get(output)

        return look_up

    def check_all(self) -> list[Finding]:
        """Compile every document; every problem and analysis finding, for a pack install."""
        found: list[Finding] = []
        for key, versions in self._documents.items():
            for document in versions.values():
                try:
                    found.extend(self.load(document).findings)
                except DocumentError as error:
                    found.extend(
                        error.problems or [Finding(ERROR, error.code, key, params=error.params)]
                    )
                except EvaluationError as error:
                    found.append(Finding(ERROR, error.code, key, params=error.params))
        return found
