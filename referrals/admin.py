"""Admin for the routing queue's operations only.

System admins see no client record (API.md), so referrals and notifications
are not here at all, and outbox events show only their routing state — never
the client, the referral or the entry they are about.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from referrals.models import OutboxEvent
from referrals.outbox import dispatch_event

ROUTING_FIELDS = ("id", "kind", "created_at", "dispatched_at", "dispatch_count", "delivered_at")


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ROUTING_FIELDS
    fields = ROUTING_FIELDS
    readonly_fields = ROUTING_FIELDS
    list_filter = ("kind", ("delivered_at", admin.EmptyFieldListFilter))
    ordering = ("-created_at",)
    actions = ["redispatch"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False

    @admin.action(description="Hand the selected undelivered events to the queue again")
    def redispatch(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        pending = list(queryset.filter(delivered_at__isnull=True).values_list("pk", flat=True))
        for event_id in pending:
            dispatch_event(event_id)
        self.message_user(request, f"{len(pending)} events handed to the routing queue.")
