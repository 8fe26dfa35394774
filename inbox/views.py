"""Web pages of the inbox: the list, and marking a notification read."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from access.inbox import inbox, with_previews
from access.lookups import access_notification
from core.audit import Action, record_access
from core.events import mark_notification_read
from core.pages import organization_page

LIST_PAGE_SIZE = 50


@require_GET
@organization_page
def inbox_page(request: HttpRequest) -> HttpResponse:
    provider = request.user
    show = request.GET.get("show", "unread")
    notifications = inbox(provider, unread=True if show == "unread" else None)
    page = Paginator(notifications, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = with_previews(provider, list(page.object_list))
    record_access(provider, [n.client for n in rows if n.client], Action.INBOX_LIST)
    return render(
        request,
        "inbox/inbox.html",
        {
            "nav": "inbox",
            "show": "unread" if show == "unread" else "all",
            "page": page,
            "notifications": rows,
        },
    )


@require_POST
@organization_page
def notification_read(request: HttpRequest, notification_id: str) -> HttpResponse:
    notification = access_notification(request.user, notification_id)
    mark_notification_read(recipient=request.user, notification=notification)
    if request.htmx:
        notification = with_previews(
            request.user, [access_notification(request.user, notification.pk)]
        )[0]
        return render(request, "inbox/_notification.html", {"notification": notification})
    return redirect("dashboard" if request.POST.get("back") == "dashboard" else "inbox")
