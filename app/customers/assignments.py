"""What customers assign to people: each customer's owner (客户归属), handed over on leaving."""

from app.customers.models import Customer
from app.handover.registry import Assignment, register_assignment

register_assignment(
    Assignment(key="customer.owner", model=Customer, column="owner_id", label=("customers", "客户"))
)
