"""URLs of the portal's pages, for the client themself, under /portal/
(namespace `portal`; included by carelink/web_urls.py). The provider's
invitation handout lives with the client page (`portal-invite`)."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("activate/", views.activate, name="activate"),
    path("who-looked/", views.access_log, name="access-log"),
    path("sharing/", views.sharing, name="sharing"),
    path("sharing/change/", views.sharing_change, name="sharing-change"),
    path(
        "sharing/<uuid:directive_id>/take-back/",
        views.sharing_take_back,
        name="sharing-take-back",
    ),
    path("referrals/", views.referrals, name="referrals"),
    path(
        "referrals/<uuid:referral_id>/how-did-it-go/",
        views.experience,
        name="experience",
    ),
    path("emails/", views.notices, name="notices"),
]
