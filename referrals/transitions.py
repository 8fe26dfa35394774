"""The referral lifecycle as one table: (state, action, side, next state).

The services move a referral only along a row of this table (with one
conditional UPDATE, so of two racing transitions exactly one wins), the API
checks the side before reading input (403 before 400), and the referral page
offers exactly the actions this table allows the viewer. (django-fsm-2 was
considered: its transitions save the instance, and its concurrency guard
re-reads the state, where a single `UPDATE … WHERE status IN (…)` carrying the
transition's own fields is both simpler and race-safe.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from core.errors import NotAllowed
from core.permissions import Side, may_join_care_teams, may_read_entries, referral_side
from referrals.models import WAITING_STATUSES, Referral, ReferralStatus

SENT, ACCEPTED, SCHEDULED = ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.SCHEDULED
COMPLETED, DECLINED = ReferralStatus.COMPLETED, ReferralStatus.DECLINED
CANCELLED = ReferralStatus.CANCELLED


class ReferralAction(models.TextChoices):
    ACCEPT = "accept", "accepted"
    DECLINE = "decline", "declined"
    SCHEDULE = "schedule", "scheduled"
    COMPLETE = "complete", "completed"
    CANCEL = "cancel", "cancelled"


@dataclass(frozen=True)
class Transition:
    state: ReferralStatus
    action: ReferralAction
    side: Side
    next_state: ReferralStatus


A = ReferralAction
TRANSITIONS = (
    Transition(SENT, A.ACCEPT, Side.RECEIVING, ACCEPTED),
    Transition(SENT, A.DECLINE, Side.RECEIVING, DECLINED),
    Transition(ACCEPTED, A.SCHEDULE, Side.RECEIVING, SCHEDULED),
    Transition(SCHEDULED, A.SCHEDULE, Side.RECEIVING, SCHEDULED),  # rescheduling
    Transition(ACCEPTED, A.COMPLETE, Side.RECEIVING, COMPLETED),
    Transition(SCHEDULED, A.COMPLETE, Side.RECEIVING, COMPLETED),
    Transition(SENT, A.CANCEL, Side.REFERRING, CANCELLED),
    Transition(ACCEPTED, A.CANCEL, Side.REFERRING, CANCELLED),
    Transition(SCHEDULED, A.CANCEL, Side.REFERRING, CANCELLED),
)

# Actions only some roles of the right side may take (minimum necessary):
# accepting puts the provider on the care team, completing writes an entry.
ROLE_RULES: dict[ReferralAction, tuple[Callable[[Any], bool], str]] = {
    A.ACCEPT: (
        may_join_care_teams,
        "Organization admins and privacy officers do not accept referrals: accepting puts "
        "you on the care team.",
    ),
    A.COMPLETE: (
        may_read_entries,
        "Organization admins and privacy officers do not file intake reports.",
    ),
}

# Referrals that are still going somewhere (any row starts from them).
OPEN = frozenset(t.state for t in TRANSITIONS)
# Accepted by the receiving organization (scheduled or not), not yet done.
UNDER_WAY = frozenset({ACCEPTED, SCHEDULED})
# Still in the queue: the wait figures count these (docs/capacity.md).
WAITING = frozenset(WAITING_STATUSES)
# The actions that take a referral out of the queue; the first of them sets
# `stopped_waiting_at` (rescheduling, a second schedule, does not move it).
STOPS_WAITING = frozenset(
    t.action for t in TRANSITIONS if t.state in WAITING and t.next_state not in WAITING
)


def side_of(action: ReferralAction) -> Side:
    return next(t.side for t in TRANSITIONS if t.action == action)


def states_allowing(action: ReferralAction) -> list[ReferralStatus]:
    return [t.state for t in TRANSITIONS if t.action == action]


def next_state(action: ReferralAction) -> ReferralStatus:
    return next(t.next_state for t in TRANSITIONS if t.action == action)


def viewer_side(user: Any, referral: Referral) -> Side | None:
    return referral_side(user, referral.from_organization_id, referral.to_organization_id)


def require_side(user: Any, referral: Referral, action: ReferralAction) -> None:
    """403 unless the user's organization is the party this action belongs to."""
    side = side_of(action)
    if viewer_side(user, referral) != side:
        raise NotAllowed(f"Only the {side.label} organization may {action.value} this referral.")
    if action in ROLE_RULES:
        allowed, message = ROLE_RULES[action]
        if not allowed(user):
            raise NotAllowed(message)


def _role_may(user: Any, action: ReferralAction) -> bool:
    return action not in ROLE_RULES or ROLE_RULES[action][0](user)


def actions_for(user: Any, referral: Referral) -> set[ReferralAction]:
    """The actions the user may take on the referral now (the page's buttons)."""
    side = viewer_side(user, referral)
    return {
        t.action
        for t in TRANSITIONS
        if t.state == referral.status and t.side == side and _role_may(user, t.action)
    }
