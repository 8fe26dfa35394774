from django.urls import path

from measures import api

urlpatterns = [
    path("instruments/", api.InstrumentListView.as_view(), name="instruments"),
    path("registry/", api.RegistryView.as_view(), name="registry"),
    path(
        "clients/<str:client_id>/assessments/",
        api.AssessmentListView.as_view(),
        name="assessments",
    ),
    path(
        "clients/<str:client_id>/assessments/<str:assessment_id>/",
        api.AssessmentDetailView.as_view(),
        name="assessment",
    ),
]
