"""URLs of the measures app's pages (included by carelink/web_urls.py)."""

from django.urls import path

from measures import views

urlpatterns = [
    path(
        "clients/<uuid:client_id>/assessments/new/",
        views.assessment_new,
        name="assessment-new",
    ),
    path("registry/", views.registry_page, name="registry-page"),
]
