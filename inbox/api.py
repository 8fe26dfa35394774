"""REST API of the inbox: the caller's notifications, and marking one read."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.inbox import inbox, with_previews
from access.lookups import access_notification
from core.audit import Action, record_access
from core.events import mark_notification_read, subject_label
from core.models import Notification
from core.rest import Pagination, Text, choice_filter, utc_text
from records.models import Service
from referrals.events import REFERRAL

SERVICE = subject_label(Service)


class NotificationSerializer(serializers.ModelSerializer):
    client = serializers.SerializerMethodField()
    referral = serializers.SerializerMethodField()
    service = serializers.SerializerMethodField()
    entry = serializers.UUIDField(source="event.entry_id", allow_null=True)
    preview = Text()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "client",
            "referral",
            "service",
            "entry",
            "preview",
            "created_at",
            "read_at",
        ]

    def to_representation(self, notification: Notification) -> dict:
        """The row written straight out, each value as the declared field above
        writes it (DRF's walk over the fields is most of a page's Python:
        docs/performance.md, "Province scale"); the declared fields stay the
        schema, and a test holds this to DRF's own walk
        (tests/test_province_scale.py)."""
        return {
            "id": str(notification.pk),
            "kind": notification.kind,
            "client": self.get_client(notification),
            "referral": self.get_referral(notification),
            "service": self.get_service(notification),
            "entry": None
            if notification.event.entry_id is None
            else str(notification.event.entry_id),
            "preview": None if notification.preview is None else str(notification.preview),
            "created_at": utc_text(notification.created_at),
            "read_at": utc_text(notification.read_at),
        }

    def get_client(self, notification: Notification) -> dict | None:
        client = notification.client
        if client is None:
            return None
        return {
            "id": str(client.pk),
            "given_name": client.given_name,
            "family_name": client.family_name,
        }

    def get_referral(self, notification: Notification) -> str | None:
        event = notification.event
        return str(event.subject_id) if event.subject_type == REFERRAL else None

    def get_service(self, notification: Notification) -> str | None:
        """A service's notifications (its queue is growing) name it; they have no client."""
        event = notification.event
        return str(event.subject_id) if event.subject_type == SERVICE else None


class InboxView(APIView):
    pagination_class = Pagination

    @extend_schema(
        parameters=[OpenApiParameter("unread", str, enum=["true", "false"])],
        responses=NotificationSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        unread = choice_filter(request, "unread", ["true", "false"])
        notifications = inbox(request.user, unread=None if unread is None else unread == "true")
        paginator = self.pagination_class()
        page = with_previews(
            request.user, paginator.paginate_queryset(notifications, request, self), links=False
        )
        # The inbox shows clients' names: audited like any list of clients.
        record_access(request.user, [n.client for n in page if n.client], Action.INBOX_LIST)
        return paginator.get_paginated_response(NotificationSerializer(page, many=True).data)


class InboxReadView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: str) -> Response:
        notification = access_notification(request.user, notification_id)
        mark_notification_read(recipient=request.user, notification=notification)
        notification = with_previews(
            request.user, [access_notification(request.user, notification.pk)], links=False
        )[0]
        return Response(NotificationSerializer(notification).data)
