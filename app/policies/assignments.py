"""What the policy book assigns to people: the salesperson of each policy still open (待确认 or
在保), who looks after it and its renewal. A closed policy (expired, cancelled) keeps its
salesperson: who sold it is a fact of the sale. The practitioner number printed on the policy
is never rewritten either."""

from app.handover.registry import Assignment, register_assignment
from app.policies.models import Policy
from app.policies.services import OPEN_STATUSES

register_assignment(
    Assignment(
        key="policy.salesperson",
        model=Policy,
        column="salesperson_id",
        name_column="salesperson_name",
        label=("open policies", "在保保单"),
        where=lambda model: model.status.in_(OPEN_STATUSES),
    )
)
