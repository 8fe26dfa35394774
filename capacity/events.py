"""The capacity app's routing event: a service's queue is growing.

Raised by `capacity.services.warn_if_queue_growing` at most once per service
per 7 days; it goes to the service organization's organization admins and
intake workers. It is about a service, not a client: `client` is None, the
subject is the service, and the preview says only the service's figures.
"""

from django.db.models import QuerySet
from django.urls import reverse

from capacity.selectors import Wait
from core import events
from core.events import EventKind, subject_label
from core.models import Notification, OutboxEvent
from core.vocabulary import Role
from records.models import Provider, Service

SERVICE = subject_label(Service)
WARNED_ROLES = (Role.ORG_ADMIN, Role.INTAKE_WORKER)


def _admins_and_intake_of_the_service(event: OutboxEvent) -> QuerySet[Provider]:
    return Provider.objects.filter(
        is_active=True, organization_id=event.detail["organization"]["id"], role__in=WARNED_ROLES
    )


def _preview(notification: Notification) -> str:
    detail = notification.event.detail
    wait = detail["wait"]
    return (
        f"The queue of {detail['service']['name']} ({detail['organization']['name']}) is "
        f"growing: {wait['waiting']} waiting; {wait['arrivals_4w']} arrived and "
        f"{wait['left_4w']} left in the last 4 weeks."
    )


def _own_organization(event: OutboxEvent) -> tuple[int]:
    """No client to be visible: the warning shows while the reader works for
    the service's organization."""
    return (event.detail["organization"]["id"],)


def _service_page(notification: Notification) -> str:
    return reverse("service-detail", args=[notification.event.subject_id])


SERVICE_QUEUE_GROWING = events.register(
    EventKind(
        name="service_queue_growing",
        label="A service's queue is growing",
        recipients=_admins_and_intake_of_the_service,
        preview=_preview,
        parties=_own_organization,
        link=_service_page,
    )
)


def service_queue_growing(service: Service, wait: Wait) -> None:
    """The figures travel with the event: the preview says what was true when
    the warning was raised, not what the queue says by the time it is read."""
    events.publish_event(
        SERVICE_QUEUE_GROWING,
        client=None,
        actor=None,
        subject=service,
        detail={
            "service": {"id": str(service.pk), "name": service.name},
            "organization": {"id": service.organization_id, "name": service.organization.name},
            "wait": wait.as_dict(),
        },
    )
