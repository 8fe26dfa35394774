from django.urls import path

from inbox import api

urlpatterns = [
    path("inbox/", api.InboxView.as_view(), name="inbox"),
    path("inbox/<str:notification_id>/read/", api.InboxReadView.as_view(), name="inbox-read"),
]
