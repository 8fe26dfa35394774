"""Long lists read a page at a time, the page's keys first
(docs/performance.md, "Province scale", change 29)."""

from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import F, Lookup, Q, QuerySet


class KeysFirst:
    """A list for Django's paginator (and DRF's, which uses Django's) whose
    page is one statement in two steps: the page's primary keys from `ordered`
    alone, with `LIMIT` and `OFFSET` applied there, then `rows` for those keys
    only, with whatever they join, in the same order.

    The plain shape (filter, join, sort, limit) is planned from PostgreSQL's
    estimate of how many rows match the filter. For a client's access log that
    estimate is the average client's, about ten, for every client outside the
    few hundred the last `ANALYZE` counted, so a much-read client (every list
    that shows them writes an event) had every one of their events joined to
    its names and sorted for each page: 3,000 events, 12.4 ms against 0.9 for
    this shape. Asked for its keys alone, the index on the filter and the
    order gives the page and stops.

    `ordered` must be ordered explicitly (its `order_by`); its filters may use
    any of its own columns. `count()` counts `ordered`, joining nothing, or
    `counted` when given: a list its caller knows to hold as many rows, with a
    cheaper count."""

    # Django's paginator warns of an unordered list; this one always is.
    ordered = True

    def __init__(self, ordered: QuerySet, rows: QuerySet, counted: QuerySet | None = None) -> None:
        if not ordered.query.order_by:
            raise ValueError("KeysFirst needs a list ordered by its own order_by().")
        self._ordered = ordered
        self._rows = rows
        self._counted = ordered if counted is None else counted

    def count(self) -> int:
        return self._counted.count()

    def __getitem__(self, window: Any) -> list:
        if not isinstance(window, slice):
            raise TypeError("A KeysFirst list is read a page (a slice) at a time.")
        return list(self.page_of(window))

    def page_of(self, window: slice) -> QuerySet:
        """The statement of one page (`window`: its slice of the whole list)."""
        keys = self._ordered.values("pk")[window]
        # Given `IN`, PostgreSQL may hash the page's keys and scan the whole
        # table to meet them, as it did for a log of 24,000 events
        # (tests/test_access_log_pages.py).
        return self._rows.filter(among(keys)).order_by(*self._ordered.query.order_by)


def among(keys: QuerySet) -> Q:
    """A filter to the rows whose primary key `keys` (a query of one column)
    returns, written so that the database takes the keys first and looks each
    up by the primary key: `pk = ANY(ARRAY(keys))` on PostgreSQL, whose
    planner cannot turn it into a join (`pk IN (keys)`, which it may answer by
    scanning the table instead); `pk IN (keys)` elsewhere."""
    if connection.vendor == "postgresql":
        return Q(_AnyOf(F("pk"), ArraySubquery(keys)))
    return Q(pk__in=keys)


class _AnyOf(Lookup):
    """`lhs = ANY(rhs)`, rhs an array (PostgreSQL). Django has `__in` and
    `__overlap`, neither of which is this; a lookup used as a filter here
    only, not registered on any field."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
