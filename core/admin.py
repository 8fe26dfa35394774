"""Admin of the ground floor: the audit trail (read-only) and the routing
queue's operational state.

System admins see no client record (docs/access-rules.md), so outbox events
show only their routing state — never the client, subject or entry they are
about — and notifications are not here at all.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.events import dispatch_event
from core.models import AccessEvent, OutboxEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):
    """The audit trail: readable by system admins, never editable or deletable."""

    list_display = ["at", "client_id", "actor", "organization", "action", "channel", "emergency"]
    list_filter = ["emergency", "channel", "by_client", "action"]
    list_select_related = ["actor", "organization"]
    date_hierarchy = "at"


ROUTING_FIELDS = ("id", "kind", "created_at", "dispatched_at", "dispatch_count", "delivered_at")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ROUTING_FIELDS
    fields = ROUTING_FIELDS
    readonly_fields = ROUTING_FIELDS
    list_filter = ("kind", ("delivered_at", admin.EmptyFieldListFilter))
    ordering = ("-created_at",)
    actions = ["redispatch"]

    @admin.action(description="Hand the selected undelivered events to the queue again")
    def redispatch(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        pending = list(queryset.filter(delivered_at__isnull=True).values_list("pk", flat=True))
        for event_id in pending:
            dispatch_event(event_id)
        self.message_user(request, f"{len(pending)} events handed to the routing queue.")
