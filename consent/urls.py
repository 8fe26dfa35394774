from django.urls import path

from consent import api

urlpatterns = [
    path("clients/<str:client_id>/consents/", api.ConsentListView.as_view(), name="consents"),
    path(
        "consents/<str:consent_id>/revoke/", api.ConsentRevokeView.as_view(), name="consent-revoke"
    ),
    path("consent-policies/", api.ConsentPolicyListView.as_view(), name="consent-policies"),
    path(
        "consent-policies/<str:policy_id>/",
        api.ConsentPolicyDetailView.as_view(),
        name="consent-policy",
    ),
    path(
        "clients/<str:client_id>/emergency-access/",
        api.EmergencyAccessView.as_view(),
        name="emergency-access",
    ),
    path("clients/<str:client_id>/access-log/", api.AccessLogView.as_view(), name="access-log"),
]
