from django.urls import path

from capacity import api

urlpatterns = [
    path("services/", api.ServiceListView.as_view(), name="services"),
    path("services/<str:service_id>/", api.ServiceDetailView.as_view(), name="service"),
    path(
        "services/<str:service_id>/wait-history/",
        api.WaitHistoryView.as_view(),
        name="service-wait-history",
    ),
]
