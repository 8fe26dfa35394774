from django.urls import path

from records import api

urlpatterns = [
    path("me/", api.MeView.as_view(), name="me"),
    path("organizations/", api.OrganizationListView.as_view(), name="organizations"),
    path("providers/", api.ProviderCreateView.as_view(), name="providers"),
    path("clients/", api.ClientListView.as_view(), name="clients"),
    path("clients/<str:client_id>/", api.ClientDetailView.as_view(), name="client"),
    path("clients/<str:client_id>/care-team/", api.CareTeamView.as_view(), name="care-team"),
    path(
        "clients/<str:client_id>/care-team/<str:provider_id>/",
        api.CareTeamMemberView.as_view(),
        name="care-team-member",
    ),
    path("clients/<str:client_id>/entries/", api.EntryListView.as_view(), name="entries"),
    path(
        "clients/<str:client_id>/entries/<str:entry_id>/",
        api.EntryDetailView.as_view(),
        name="entry",
    ),
    path(
        "clients/<str:client_id>/entries/<str:entry_id>/amend/",
        api.EntryAmendView.as_view(),
        name="entry-amend",
    ),
    path(
        "clients/<str:client_id>/entries/<str:entry_id>/retract/",
        api.EntryRetractView.as_view(),
        name="entry-retract",
    ),
]
