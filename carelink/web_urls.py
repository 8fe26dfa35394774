"""URLs of the web pages (the API lives under /api/v1/)."""

from django.urls import include, path

from capacity import views as capacity_views
from consent import views as consent_views
from core.pages import session_keepalive
from inbox import views as inbox_views
from portal import notices as portal_notices
from portal import views as portal_views
from records import views as records_views
from referrals import views as referrals_views
from referrals.transitions import ReferralAction

urlpatterns = [
    path("", referrals_views.dashboard, name="dashboard"),
    path("session/keepalive/", session_keepalive, name="session-keepalive"),
    # The client portal's email notices: the one-click opt-out works without signing in.
    path(
        "portal/notices/stop/<str:token>/",
        portal_notices.stop_notices,
        name="portal-notices-stop",
    ),
    # clients
    path("clients/", records_views.client_search, name="client-search"),
    path("clients/new/", records_views.client_new, name="client-new"),
    path("clients/<uuid:client_id>/", records_views.client_detail, name="client-detail"),
    path("clients/<uuid:client_id>/entries/", records_views.entry_add, name="entry-add"),
    path(
        "clients/<uuid:client_id>/entries/<uuid:entry_id>/amend/",
        records_views.entry_amend,
        name="entry-amend",
    ),
    path(
        "clients/<uuid:client_id>/entries/<uuid:entry_id>/retract/",
        records_views.entry_retract,
        name="entry-retract",
    ),
    path(
        "clients/<uuid:client_id>/demographics/",
        records_views.demographics_edit,
        name="demographics-edit",
    ),
    path("clients/<uuid:client_id>/care-team/", records_views.care_team_add, name="care-team-add"),
    path(
        "clients/<uuid:client_id>/care-team/<int:provider_id>/leave/",
        records_views.care_team_leave,
        name="care-team-leave",
    ),
    path(
        "clients/<uuid:client_id>/referrals/",
        referrals_views.referral_create,
        name="referral-create",
    ),
    path("clients/<uuid:client_id>/consents/", consent_views.consent_record, name="consent-record"),
    path(
        "clients/<uuid:client_id>/consents/policy/",
        consent_views.consent_apply_policy,
        name="consent-apply-policy",
    ),
    path(
        "clients/<uuid:client_id>/emergency-access/",
        consent_views.emergency_access_grant,
        name="emergency-access",
    ),
    path("clients/<uuid:client_id>/access-log/", consent_views.access_log_view, name="access-log"),
    path(
        "clients/<uuid:client_id>/portal-invite/",
        portal_views.portal_invite,
        name="portal-invite",
    ),
    path("consents/<uuid:consent_id>/revoke/", consent_views.consent_revoke, name="consent-revoke"),
    # referrals and the inbox
    path("referrals/", referrals_views.referral_list, name="referral-list"),
    path("referrals/<uuid:referral_id>/", referrals_views.referral_detail, name="referral-detail"),
    *[
        path(
            f"referrals/<uuid:referral_id>/{action}/",
            referrals_views.referral_transition,
            {"action": action},
            name=f"referral-{action}",
        )
        for action in ReferralAction.values
    ],
    path(
        "referrals/<uuid:referral_id>/redirect/",
        referrals_views.referral_redirect,
        name="referral-redirect",
    ),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path(
        "inbox/<uuid:notification_id>/read/",
        inbox_views.notification_read,
        name="notification-read",
    ),
    # privacy officers and organization admins
    path("consent-policies/", consent_views.consent_policy_list, name="consent-policy-list"),
    path("consent-policies/new/", consent_views.consent_policy_edit, name="consent-policy-new"),
    path(
        "consent-policies/<int:policy_id>/edit/",
        consent_views.consent_policy_edit,
        name="consent-policy-edit",
    ),
    path("privacy/", consent_views.privacy_desk, name="privacy-desk"),
    path(
        "privacy/emergency-accesses/<uuid:grant_id>/acknowledge/",
        consent_views.emergency_access_acknowledge,
        name="emergency-access-acknowledge",
    ),
    path("providers/", records_views.provider_list, name="provider-list"),
    path("providers/<int:provider_id>/", records_views.provider_detail, name="provider-detail"),
    path("", include("measures.web_urls")),
    # the client portal: the client's own pages
    path("portal/", include("portal.web_urls")),
    # services and their waits
    path("services/", capacity_views.service_directory, name="service-directory"),
    path("services/new/", capacity_views.service_edit, name="service-new"),
    path("services/<uuid:service_id>/", capacity_views.service_detail, name="service-detail"),
    path("services/<uuid:service_id>/edit/", capacity_views.service_edit, name="service-edit"),
    path("services/<uuid:service_id>/queue/", capacity_views.service_queue, name="service-queue"),
    path(
        "services/<uuid:service_id>/intake/",
        capacity_views.service_intake,
        name="service-intake",
    ),
]
