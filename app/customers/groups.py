"""Customer groups: customers sharing a parent, whose limit lives on the root's row."""

from __future__ import annotations

from typing import TypeVar

from app.customers.models import CustomerRecord

Record = TypeVar("Record", bound=CustomerRecord)


def group_root(customer: Record, parent: Record | None) -> Record | None:
    """The root of the customer's group when the group has a limit (a root is in its own group), else None.

    `parent` is the stored row of `customer.parent_id` (None when it is not stored); only a group with a
    limit caps its members' credit, so a root without one is no root for the rules that read it."""
    root = customer if customer.parent_id is None else parent
    return root if root is not None and root.group_limit_minor is not None else None
