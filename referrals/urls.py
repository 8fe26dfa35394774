from django.urls import path

from referrals import api

urlpatterns = [
    path("referrals/", api.ReferralListView.as_view(), name="referrals"),
    path("referrals/<str:referral_id>/", api.ReferralDetailView.as_view(), name="referral"),
    path(
        "referrals/<str:referral_id>/accept/",
        api.AcceptReferralView.as_view(),
        name="referral-accept",
    ),
    path(
        "referrals/<str:referral_id>/decline/",
        api.DeclineReferralView.as_view(),
        name="referral-decline",
    ),
    path(
        "referrals/<str:referral_id>/schedule/",
        api.ScheduleReferralView.as_view(),
        name="referral-schedule",
    ),
    path(
        "referrals/<str:referral_id>/complete/",
        api.CompleteReferralView.as_view(),
        name="referral-complete",
    ),
    path(
        "referrals/<str:referral_id>/cancel/",
        api.CancelReferralView.as_view(),
        name="referral-cancel",
    ),
    path(
        "referrals/<str:referral_id>/redirect/",
        api.RedirectReferralView.as_view(),
        name="referral-redirect",
    ),
]
