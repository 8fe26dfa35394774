"""The portal's API: the invitation under a client (for providers), the rest
under /api/v1/portal/ (for the client's own account; activation for anyone)."""

from django.urls import path

from portal import api

urlpatterns = [
    path(
        "clients/<str:client_id>/portal-invite/",
        api.PortalInviteView.as_view(),
        name="portal-invite",
    ),
    path("portal/activate/", api.ActivationView.as_view(), name="portal-activate"),
    path("portal/me/", api.MeView.as_view(), name="portal-me"),
    path("portal/care-team/", api.CareTeamView.as_view(), name="portal-care-team"),
    path("portal/access-log/", api.AccessLogView.as_view(), name="portal-access-log"),
    path("portal/consents/", api.ConsentsView.as_view(), name="portal-consents"),
    path(
        "portal/consents/<str:consent_id>/revoke/",
        api.ConsentRevokeView.as_view(),
        name="portal-consent-revoke",
    ),
    path("portal/referrals/", api.ReferralsView.as_view(), name="portal-referrals"),
    path(
        "portal/referrals/<str:referral_id>/experience/",
        api.ExperienceView.as_view(),
        name="portal-experience",
    ),
]
