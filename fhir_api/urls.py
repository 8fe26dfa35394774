from django.urls import path

from fhir_api import api

# Under /fhir/R4/ (carelink/urls.py). FHIR's paths have no trailing slash.
urlpatterns = [
    path("metadata", api.MetadataView.as_view(), name="fhir-metadata"),
    path("Patient", api.PatientSearchView.as_view(), name="fhir-patient-search"),
    path("Patient/<str:client_id>", api.PatientReadView.as_view(), name="fhir-patient"),
    path(
        "Patient/<str:client_id>/$everything",
        api.PatientEverythingView.as_view(),
        name="fhir-patient-everything",
    ),
]
