"""The code systems, identifier systems and value-set mappings of the FHIR face
(docs/fhir.md lists them for readers of the API).

CareLink's own vocabulary (categories, kinds, roles, sectors, referral
statuses) is published under one base URI, `CARELINK`; everything with a
standard code (LOINC, HL7 terminology) uses the standard system. Every coded
status, intent, priority and Bundle type comes from its FHIR R4 value set:
the tables below are the only place they are chosen.
"""

from core.vocabulary import Category, EntryKind, Role, Sector
from measures.instruments import LOINC
from referrals.models import ReferralStatus, Urgency

FHIR_VERSION = "4.0.1"

# Our namespace. `.example.org` is reserved for documentation (RFC 2606): a
# deployment that registers its own domain changes it here, in one place.
CARELINK = "https://carelink.example.org/fhir"

HEALTH_CARD_SYSTEM = f"{CARELINK}/sid/health-card-number"
PROVIDER_SYSTEM = f"{CARELINK}/sid/provider"
ORGANIZATION_SYSTEM = f"{CARELINK}/sid/organization"
SECTOR_SYSTEM = f"{CARELINK}/sid/sector"
SERVICE_SYSTEM = f"{CARELINK}/sid/service"
URN_SYSTEM = "urn:ietf:rfc:3986"  # identifiers written as urn:uuid:…

CATEGORY_SYSTEM = f"{CARELINK}/CodeSystem/category"
KIND_SYSTEM = f"{CARELINK}/CodeSystem/entry-kind"
ROLE_SYSTEM = f"{CARELINK}/CodeSystem/role"
SEVERITY_SYSTEM = f"{CARELINK}/CodeSystem/severity"
REFERRAL_STATUS_EXTENSION = f"{CARELINK}/StructureDefinition/referral-status"

V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
SNOMED = "http://snomed.info/sct"

REDACTED = {
    "system": V3_OBSERVATION_VALUE,
    "code": "REDACTED",
    "display": "redacted",
}


def coding(system: str, code: str, display: str | None = None) -> dict:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def category_coding(category: str) -> dict:
    return coding(CATEGORY_SYSTEM, category, Category(category).label)


def kind_coding(kind: str) -> dict:
    return coding(KIND_SYSTEM, kind, EntryKind(kind).label)


def role_coding(role: str) -> dict:
    return coding(ROLE_SYSTEM, role, Role(role).label)


# LOINC document types where one names the kind well; the rest carry our code only.
KIND_LOINC = {
    EntryKind.NOTE: ("11506-3", "Progress note"),
    EntryKind.DISCHARGE_SUMMARY: ("18842-5", "Discharge summary"),
    EntryKind.CARE_PLAN: ("18776-5", "Plan of care note"),
}


def kind_concept(kind: str) -> dict:
    codings = [kind_coding(kind)]
    if kind in KIND_LOINC:
        code, display = KIND_LOINC[kind]
        codings.append(coding(LOINC, code, display))
    return {"coding": codings, "text": EntryKind(kind).label}


def sector_label(sector: str) -> str:
    return Sector(sector).label


# ServiceRequest.status (http://hl7.org/fhir/request-status): a referral is
# active while it is open, completed when its report is filed, and revoked
# when it ended before that (declined by the receiver or cancelled by the
# sender). The exact CareLink status rides along in an extension.
REFERRAL_STATUS = {
    ReferralStatus.SENT: "active",
    ReferralStatus.ACCEPTED: "active",
    ReferralStatus.SCHEDULED: "active",
    ReferralStatus.COMPLETED: "completed",
    ReferralStatus.DECLINED: "revoked",
    ReferralStatus.CANCELLED: "revoked",
}

# ServiceRequest.intent (http://hl7.org/fhir/request-intent): a sent referral
# is an order to the receiving organization.
REFERRAL_INTENT = "order"

# ServiceRequest.priority (http://hl7.org/fhir/request-priority).
REFERRAL_PRIORITY = {
    Urgency.ROUTINE: "routine",
    Urgency.URGENT: "urgent",
    Urgency.EMERGENT: "stat",
}

# SNOMED CT 3457005 |Patient referral (procedure)|.
REFERRAL_CODE = {"coding": [coding(SNOMED, "3457005", "Patient referral")], "text": "Referral"}

# Consent.status (http://hl7.org/fhir/consent-state-codes).
CONSENT_ACTIVE = "active"
CONSENT_INACTIVE = "inactive"
# Consent.provision.type (http://hl7.org/fhir/consent-provision-type).
PROVISION_TYPE = {"permit": "permit", "deny": "deny"}
# Consent.policyRule (v3-ActCode): a permit opts the grantee in, a deny out.
POLICY_RULE = {"permit": "OPTIN", "deny": "OPTOUT"}

# DocumentReference.status (http://hl7.org/fhir/document-reference-status) and
# docStatus (http://hl7.org/fhir/composition-status).
DOCUMENT_CURRENT = "current"
DOCUMENT_ENTERED_IN_ERROR = "entered-in-error"
DOC_STATUS_FINAL = "final"
DOC_STATUS_AMENDED = "amended"

# Observation.status (http://hl7.org/fhir/observation-status).
OBSERVATION_FINAL = "final"
OBSERVATION_AMENDED = "amended"
OBSERVATION_ENTERED_IN_ERROR = "entered-in-error"

# Bundle.type (http://hl7.org/fhir/bundle-type) and entry.search.mode
# (http://hl7.org/fhir/search-entry-mode).
BUNDLE_SEARCHSET = "searchset"
SEARCH_MATCH = "match"
SEARCH_INCLUDE = "include"

# Values that appear in the CapabilityStatement.
CAPABILITY_STATUS = "active"  # http://hl7.org/fhir/publication-status
CAPABILITY_KIND = "instance"  # http://hl7.org/fhir/capability-statement-kind
