"""The registry of assignments: each capability declares the records it assigns to a person
(a customer's owner, a policy's salesperson), in its own `assignments.py`, and the hand-over
moves every one of them. A later capability (renewal tasks, leads) joins by writing its module
and listing it in ASSIGNMENT_MODULES; nothing else changes.

    register_assignment(Assignment(
        key="customer.owner", model=Customer, column="owner_id", label=("Customers", "客户"),
    ))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The capabilities' assignment modules, imported by load_assignments(). A capability not present
# (its package not written yet) is skipped; an error inside a present module is raised.
ASSIGNMENT_MODULES = (
    "app.customers.assignments",
    "app.policies.assignments",
    "app.renewals.assignments",
    "app.leads.assignments",
)


@dataclass(frozen=True)
class Assignment:
    """Rows of `model` whose `column` names the user (ab_user.id) they are assigned to.

    - `label`: (English, Chinese) name of what is handed over, e.g. ("policies", "保单");
    - `name_column`: a snapshot of the user's name kept beside the id, rewritten with it;
    - `where`: extra criteria (model → SQL condition): e.g. only policies still in force move,
      the salesperson of an expired one stays a fact of the sale;
    - `field`: the name the refusal uses when records are left without a successor.
    """

    key: str
    model: type
    column: str
    label: tuple[str, str]
    name_column: str | None = None
    where: Callable[[type], Any] | None = None
    field: str = "successor_id"

    def condition(self, user_id: int):
        clause = getattr(self.model, self.column) == user_id
        return clause if self.where is None else clause & self.where(self.model)


_ASSIGNMENTS: dict[str, Assignment] = {}
_loaded = False


def register_assignment(assignment: Assignment) -> Assignment:
    existing = _ASSIGNMENTS.get(assignment.key)
    if existing is not None and existing != assignment:
        raise ValueError(f"assignment {assignment.key!r} is registered twice")
    _ASSIGNMENTS[assignment.key] = assignment
    return assignment


def load_assignments() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in ASSIGNMENT_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not name.startswith(f"{exc.name}.") and exc.name != name:
                raise


def assignments() -> list[Assignment]:
    load_assignments()
    return [_ASSIGNMENTS[key] for key in sorted(_ASSIGNMENTS)]
