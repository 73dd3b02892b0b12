"""Paging arguments of every list API, checked before they reach a query."""

from __future__ import annotations

from app.errors import BadInput

MAX_PAGE_INDEX = 1_000_000


def check_paging(page, page_size) -> None:
    """Refuse a negative page, a page size below 1, or a page so far out that its offset would
    overflow the database. Unchecked, FAB and the entity API would run them: a negative OFFSET
    fails on PostgreSQL, and LIMIT -1 means "no limit" on SQLite."""
    if not _whole(page) or not 0 <= page <= MAX_PAGE_INDEX:
        raise BadInput(
            f"page must be a whole number from 0 to {MAX_PAGE_INDEX}",
            f"页码应为 0 到 {MAX_PAGE_INDEX} 的整数",
            field="page",
        )
    if not _whole(page_size) or page_size < 1:
        raise BadInput(
            "page_size must be a whole number of at least 1",
            "每页条数应为不小于 1 的整数",
            field="page_size",
        )


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
