"""The words of the product, used alike in code, API and pages (docs/architecture.md).

Every app speaks them, so they stand on the ground floor rather than in the app
that happens to store them.
"""

from django.db import models


class Sector(models.TextChoices):
    PRIMARY_CARE = "primary_care", "Primary care"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    HOSPITAL = "hospital", "Hospital"
    HOUSING = "housing", "Housing"
    EMPLOYMENT = "employment", "Employment"
    EDUCATION = "education", "Education"
    SOCIAL_SERVICES = "social_services", "Social services"


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    INTAKE_WORKER = "intake_worker", "Intake worker"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"
    ORG_ADMIN = "org_admin", "Organization admin"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


class Category(models.TextChoices):
    """What consent is expressed in."""

    GENERAL_HEALTH = "general_health", "General health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    SUBSTANCE_USE = "substance_use", "Substance use"
    MEDICATIONS = "medications", "Medications"
    HOUSING = "housing", "Housing"
    EMPLOYMENT = "employment", "Employment"
    EDUCATION = "education", "Education"
    SOCIAL = "social", "Social"


class EntryKind(models.TextChoices):
    NOTE = "note", "Note"
    ASSESSMENT = "assessment", "Assessment"
    MEDICATION = "medication", "Medication"
    INTAKE_REPORT = "intake_report", "Intake report"
    DISCHARGE_SUMMARY = "discharge_summary", "Discharge summary"
    CARE_PLAN = "care_plan", "Care plan"


# Text limits of the public contract, in characters (docs/access-rules.md).
NAME_LIMIT = 100
TITLE_LIMIT = 200
REASON_LIMIT = 2_000
BODY_LIMIT = 20_000
