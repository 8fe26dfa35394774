"""Load the product's three stories — Ana, Marcus and Leo — as demo data.

Everything goes through the same services as the application, so the demo's
care teams, consent, audit trail and inbox are what real use would produce.
Safe to run twice: a second run finds the demo loaded and changes nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from capacity.demo import load_capacity_demo
from consent import services as consent_services
from core.audit import Action, Channel
from core.models import AccessEvent
from measures import demo as measures_demo
from portal import services as portal_services
from portal.models import ExperienceAnswer
from records import services as record_services
from records.models import Client, Organization, Service
from referrals import services as referral_services
from referrals.models import Referral

DEMO_PASSWORD = "carelink-demo"
# Ana's own sign-in on the client portal (docs/portal-pages.md).
PORTAL_USERNAME = "ana"
# What other clients answered about Adult counselling: (told their story again,
# kept informed 1–5, overall 1–5).
SURVEY_ANSWERS = [
    (False, 4, 4),
    (False, 5, 5),
    (True, 3, 3),
    (False, 4, 5),
    (False, 2, 3),
    (True, 4, 4),
    (False, 5, 4),
    (False, 3, 4),
]
MARKER_ORGANIZATION = "Riverside Family Practice"


@dataclass(frozen=True)
class DemoProvider:
    username: str
    full_name: str
    organization: str
    role: str
    who: str


ORGANIZATIONS = [
    ("Riverside Family Practice", "primary_care"),
    ("Eastside Community Mental Health", "mental_health"),
    ("WorkBridge Employment Services", "employment"),
    ("Harbour Supportive Housing", "housing"),
    ("St. Mary's General Hospital", "hospital"),
    ("Northside Community Services", "social_services"),
    ("Downtown Health Clinic", "primary_care"),
    ("Maple Grove Public School", "education"),
    ("Lakeside Paediatrics", "primary_care"),
    ("Clearwater Psychology", "mental_health"),
]

PROVIDERS = [
    DemoProvider(
        "dr_lee", "Dr. Daniel Lee", "Riverside Family Practice", "clinician", "Ana's family doctor"
    ),
    DemoProvider(
        "admin_riverside",
        "Rita Gomez",
        "Riverside Family Practice",
        "org_admin",
        "organization admin",
    ),
    DemoProvider(
        "intake_kim",
        "Kim Park",
        "Eastside Community Mental Health",
        "intake_worker",
        "mental-health intake worker",
    ),
    DemoProvider(
        "dr_osei", "Dr. Ama Osei", "Eastside Community Mental Health", "clinician", "psychologist"
    ),
    DemoProvider(
        "coord_rivera",
        "Luis Rivera",
        "Eastside Community Mental Health",
        "care_coordinator",
        "care coordinator",
    ),
    DemoProvider(
        "privacy_pat",
        "Pat Brennan",
        "Eastside Community Mental Health",
        "privacy_officer",
        "privacy officer",
    ),
    DemoProvider(
        "emp_jo",
        "Jo Martin",
        "WorkBridge Employment Services",
        "care_coordinator",
        "Ana's employment counsellor",
    ),
    DemoProvider(
        "housing_sam",
        "Sam Okafor",
        "Harbour Supportive Housing",
        "care_coordinator",
        "Marcus's supportive-housing worker",
    ),
    DemoProvider(
        "intake_harbour",
        "Hana Ito",
        "Harbour Supportive Housing",
        "intake_worker",
        "housing intake worker",
    ),
    DemoProvider(
        "dr_nguyen",
        "Dr. Minh Nguyen",
        "St. Mary's General Hospital",
        "clinician",
        "Marcus's psychiatrist",
    ),
    DemoProvider(
        "privacy_stmarys",
        "Grace Hill",
        "St. Mary's General Hospital",
        "privacy_officer",
        "hospital privacy officer",
    ),
    DemoProvider(
        "cm_alex",
        "Alex Dubois",
        "Northside Community Services",
        "care_coordinator",
        "Marcus's case manager",
    ),
    DemoProvider(
        "dr_cho", "Dr. Helen Cho", "Downtown Health Clinic", "clinician", "Marcus's clinic doctor"
    ),
    DemoProvider(
        "school_morgan",
        "Morgan Reid",
        "Maple Grove Public School",
        "care_coordinator",
        "Leo's school counsellor",
    ),
    DemoProvider(
        "dr_patel", "Dr. Priya Patel", "Lakeside Paediatrics", "clinician", "Leo's paediatrician"
    ),
    DemoProvider(
        "psych_fox", "Dr. Evan Fox", "Clearwater Psychology", "clinician", "Leo's psychologist"
    ),
]


class Command(BaseCommand):
    help = "Load the demo: the stories of Ana, Marcus and Leo (safe to run twice)."

    def handle(self, *args, **options) -> None:
        if Organization.objects.filter(name=MARKER_ORGANIZATION).exists():
            self.stdout.write("The demo is already loaded; nothing changed.")
            return
        with transaction.atomic():
            self.load()
        self.stdout.write(self.style.SUCCESS("Demo loaded: Ana, Marcus and Leo."))

    def load(self) -> None:
        self.now = timezone.now()
        self.orgs = {
            name: record_services.create_organization(name=name, sector=sector)
            for name, sector in ORGANIZATIONS
        }
        self.people = {
            p.username: record_services.create_provider(
                username=p.username,
                password=DEMO_PASSWORD,
                full_name=p.full_name,
                organization=self.orgs[p.organization],
                role=p.role,
                email=f"{p.username}@demo.carelink.invalid",
            )
            for p in PROVIDERS
        }
        policy = consent_services.save_consent_policy(
            name="Integrated mental-health care",
            description=(
                "Clinical teams share what they need to treat; employment and education "
                "services never see mental-health or substance-use details."
            ),
            rules=[
                {
                    "effect": "permit",
                    "grantee_sector": "mental_health",
                    "categories": [
                        "general_health",
                        "mental_health",
                        "medications",
                        "substance_use",
                    ],
                },
                {
                    "effect": "permit",
                    "grantee_sector": "primary_care",
                    "categories": ["general_health", "mental_health", "medications"],
                },
                {
                    "effect": "permit",
                    "grantee_sector": "hospital",
                    "categories": [
                        "general_health",
                        "mental_health",
                        "medications",
                        "substance_use",
                    ],
                },
                {
                    "effect": "permit",
                    "grantee_sector": "housing",
                    "categories": ["housing", "social"],
                },
                {
                    "effect": "deny",
                    "grantee_sector": "employment",
                    "categories": ["mental_health", "substance_use", "medications"],
                },
                {
                    "effect": "deny",
                    "grantee_sector": "education",
                    "categories": ["mental_health", "substance_use", "medications"],
                },
            ],
        )
        consent_services.save_consent_policy(
            name="School-age care",
            description="For children: the school sees education and social needs only.",
            rules=[
                {
                    "effect": "permit",
                    "grantee_sector": "education",
                    "categories": ["education", "social"],
                },
                {
                    "effect": "permit",
                    "grantee_sector": "mental_health",
                    "categories": ["general_health", "mental_health", "education"],
                },
                {"effect": "deny", "grantee_sector": "education", "categories": ["mental_health"]},
            ],
        )
        self.load_ana()
        self.load_marcus(policy)
        self.load_leo()
        measures_demo.load(self)
        load_capacity_demo(self, password=DEMO_PASSWORD)
        self.load_ana_portal()

    # --- helpers -----------------------------------------------------------------------

    def days_ago(self, days: float):
        return self.now - timedelta(days=days)

    def client(self, by: str, **fields) -> Client:
        return record_services.register_client(provider=self.people[by], **fields).client

    def join(self, client: Client, *usernames: str) -> None:
        for username in usernames:
            record_services.add_to_care_team(client, self.people[username])

    def entry(
        self,
        client: Client,
        by: str,
        days: float,
        category: str,
        kind: str,
        title: str,
        body: str,
        data: dict | None = None,
    ) -> None:
        record_services.add_entry(
            provider=self.people[by],
            client=client,
            category=category,
            kind=kind,
            title=title,
            body=body,
            data=data or {},
            occurred_at=self.days_ago(days),
        )

    def consent(
        self,
        client: Client,
        by: str,
        effect: str,
        categories: list[str],
        organization: str | None = None,
        sector: str = "",
        note: str = "",
    ) -> None:
        consent_services.record_consent(
            provider=self.people[by],
            client=client,
            effect=effect,
            categories=categories,
            grantee_organization=self.orgs[organization] if organization else None,
            grantee_sector=sector,
            note=note,
        )

    # --- the stories -------------------------------------------------------------------

    def load_ana(self) -> None:
        """Ana, 34, depression: family doctor, mental-health centre, employment counsellor."""
        ana = self.client(
            "dr_lee",
            given_name="Ana",
            family_name="Silva",
            birth_date=date(1992, 3, 14),
            health_card_number="4532-281-907",
            phone="416-555-0134",
            email="ana.silva@example.org",
        )
        self.entry(
            ana,
            "dr_lee",
            120,
            "mental_health",
            "assessment",
            "PHQ-9: moderately severe depression",
            "PHQ-9 score 17. Low mood for four months, poor sleep, withdrawn from friends. "
            "No suicidal intent. Discussed therapy; Ana agrees to a referral.",
            {"phq9": 17},
        )
        self.entry(
            ana,
            "dr_lee",
            119,
            "medications",
            "medication",
            "Sertraline 50 mg daily",
            "Started sertraline 50 mg daily. Review in four weeks.",
            {"drug": "sertraline", "dose_mg": 50},
        )
        self.entry(
            ana,
            "dr_lee",
            90,
            "general_health",
            "note",
            "Follow-up: side effects settled",
            "Mild nausea in week one, resolved. Sleep slightly better.",
        )
        self.entry(
            ana,
            "dr_lee",
            88,
            "substance_use",
            "note",
            "Alcohol use discussed",
            "Drinks 2–3 glasses of wine most evenings to help with sleep. Advised to cut "
            "down; AUDIT-C 6.",
            {"audit_c": 6},
        )
        self.entry(
            ana,
            "dr_lee",
            62,
            "general_health",
            "note",
            "Fit for part-time work",
            "Ana can work up to 20 hours a week for now. Review in two months.",
        )
        self.join(ana, "emp_jo")
        self.entry(
            ana,
            "emp_jo",
            60,
            "employment",
            "care_plan",
            "Return-to-work plan",
            "Ana wants to return to part-time bookkeeping. Weekly sessions on CV and "
            "interview practice.",
        )
        self.consent(
            ana,
            "dr_lee",
            "permit",
            ["general_health", "mental_health", "medications"],
            sector="mental_health",
            note="Agreed at referral to community mental health.",
        )
        self.consent(
            ana,
            "emp_jo",
            "permit",
            ["employment"],
            organization="Riverside Family Practice",
            note="Ana wants her doctor to know how work is going.",
        )
        self.consent(
            ana,
            "dr_lee",
            "deny",
            ["mental_health", "substance_use", "medications"],
            sector="employment",
            note="Ana does not want her employer services to know.",
        )
        self.consent(
            ana,
            "dr_lee",
            "permit",
            ["general_health"],
            organization="WorkBridge Employment Services",
            note="So her counsellor can plan her hours around her health.",
        )
        referral = referral_services.refer_client(
            provider=self.people["dr_lee"],
            client=ana,
            to_organization=self.orgs["Eastside Community Mental Health"],
            reason="Moderately severe depression on sertraline; needs CBT. Ana is motivated.",
            urgency="urgent",
            share_categories=["general_health", "mental_health", "medications"],
        )
        # Accepted, on the counselling waiting list: her portal shows the expected wait.
        referral_services.accept_referral(provider=self.people["intake_kim"], referral=referral)
        self.entry(
            ana,
            "intake_kim",
            2,
            "mental_health",
            "note",
            "Intake call done",
            "Phoned Ana for intake; she is on the waiting list for CBT. History taken from "
            "the shared record — no need to repeat it.",
        )

    def load_ana_portal(self) -> None:
        """Ana's own account on the client portal (docs/portal-pages.md, "The demo"):
        what she sees there, and the survey answers that publish the counselling
        service's figures."""
        ana = Client.objects.get(given_name="Ana", family_name="Silva")
        lee, jo = self.people["dr_lee"], self.people["emp_jo"]
        # Her doctor printed her an invitation; she opened her account with it.
        _, code = portal_services.issue_portal_invite(provider=lee, client=ana)
        account = portal_services.activate_portal_account(
            code=code,
            birth_date=ana.birth_date,
            username=PORTAL_USERNAME,
            password=DEMO_PASSWORD,
            address="127.0.0.1",
        )
        # Her own sharing choice: her drinking is between her and her doctor.
        portal_services.record_consent_by_client(
            account=account,
            effect="deny",
            categories=["substance_use"],
            grantee_organization=self.orgs["Eastside Community Mental Health"],
        )
        # A referral she can say how it went about: her doctor sent her to
        # WorkBridge's job coaching, and Jo booked her first session.
        coaching = referral_services.refer_client(
            provider=lee,
            client=ana,
            service=Service.objects.get(name="Supported employment"),
            reason="Ready for part-time work; would like a job coach.",
            urgency="routine",
        )
        referral_services.accept_referral(provider=jo, referral=coaching)
        referral_services.schedule_referral(
            provider=jo, referral=coaching, appointment_at=self.now + timedelta(days=2)
        )
        # Who looked at her record before today: the access log as the days left it
        # (written with its past times, as the services' history is).
        yesterday = timezone.localtime(self.now - timedelta(days=1))
        AccessEvent.objects.bulk_create(
            AccessEvent(
                client=ana,
                actor=actor,
                organization=actor.organization,
                action=Action.CLIENT_READ.value,
                channel=Channel.WEB.value,
                at=at,
            )
            for actor, at in [
                (lee, timezone.localtime(self.now - timedelta(days=3)).replace(hour=9, minute=5)),
                (jo, yesterday.replace(hour=14, minute=10, second=0, microsecond=0)),
            ]
        )
        self.load_survey_answers()

    def load_survey_answers(self) -> None:
        """Other clients answered "how did it go?" after their counselling was
        booked: enough answers (at least 5) for the service's figures to show.
        Written as rows, like the referral history they are about."""
        booked = (
            Referral.objects.filter(
                service__name="Adult counselling", status__in=["scheduled", "completed"]
            )
            .exclude(client__given_name="Ana")
            .order_by("created_at")[: len(SURVEY_ANSWERS)]
        )
        ExperienceAnswer.objects.bulk_create(
            ExperienceAnswer(
                referral=referral,
                repeated_story=repeated,
                kept_informed=informed,
                overall=overall,
                answered_at=(referral.appointment_at or self.now) + timedelta(days=1),
            )
            for referral, (repeated, informed, overall) in zip(booked, SURVEY_ANSWERS, strict=False)
        )

    def load_marcus(self, policy) -> None:
        """Marcus, 41, schizophrenia: hospital, case manager, clinic doctor, housing."""
        marcus = self.client(
            "dr_nguyen",
            given_name="Marcus",
            family_name="Brown",
            birth_date=date(1985, 9, 2),
            health_card_number="7781 442 019",
            phone="416-555-0199",
        )
        self.join(marcus, "cm_alex", "dr_cho", "housing_sam")
        consent_services.apply_consent_policy(
            provider=self.people["cm_alex"], client=marcus, policy=policy
        )
        self.consent(
            marcus,
            "cm_alex",
            "permit",
            ["general_health", "mental_health", "medications", "housing", "social"],
            sector="social_services",
            note="Case management needs the whole picture.",
        )
        self.entry(
            marcus,
            "dr_nguyen",
            45,
            "mental_health",
            "discharge_summary",
            "Discharge summary: acute psychotic episode",
            "Admitted after relapse following missed injections. Stabilised on "
            "paliperidone palmitate. Discharged to supported housing.",
        )
        self.entry(
            marcus,
            "dr_nguyen",
            45,
            "medications",
            "medication",
            "Paliperidone palmitate 150 mg monthly",
            "Long-acting injection, monthly.",
            {"drug": "paliperidone palmitate", "dose_mg": 150, "interval": "monthly"},
        )
        self.entry(
            marcus,
            "cm_alex",
            30,
            "social",
            "care_plan",
            "Community care plan",
            "Weekly case-management visits; injection reminders; benefits application.",
        )
        self.entry(
            marcus,
            "housing_sam",
            20,
            "housing",
            "note",
            "Moved into supported unit",
            "Marcus moved into a supported unit at Harbour House. Settling well.",
        )
        self.entry(
            marcus,
            "dr_cho",
            10,
            "general_health",
            "assessment",
            "Metabolic monitoring",
            "Weight up 3 kg since discharge; fasting glucose normal.",
            {"weight_kg": 88},
        )

    def load_leo(self) -> None:
        """Leo, 12, anxiety: school counsellor, paediatrician, private psychologist."""
        leo = self.client(
            "dr_patel",
            given_name="Leo",
            family_name="Tremblay",
            birth_date=date(2014, 1, 22),
            health_card_number="5560-118-342",
        )
        self.join(leo, "psych_fox", "school_morgan")
        self.consent(
            leo,
            "dr_patel",
            "permit",
            ["general_health", "mental_health"],
            organization="Clearwater Psychology",
            note="Parents consented on Leo's behalf.",
        )
        self.consent(leo, "dr_patel", "permit", ["education", "social"], sector="education")
        self.consent(
            leo, "psych_fox", "permit", ["mental_health"], organization="Lakeside Paediatrics"
        )
        self.consent(
            leo,
            "dr_patel",
            "deny",
            ["mental_health"],
            sector="education",
            note="The family prefers the school not see therapy notes.",
        )
        self.entry(
            leo,
            "dr_patel",
            50,
            "general_health",
            "assessment",
            "Recurrent stomach aches",
            "No organic cause found. Symptoms on school mornings; likely anxiety.",
        )
        self.entry(
            leo,
            "psych_fox",
            35,
            "mental_health",
            "assessment",
            "GAD-7 and SCARED screen",
            "SCARED total 34, school avoidance prominent. Starting CBT with exposure.",
            {"scared": 34},
        )
        self.entry(
            leo,
            "school_morgan",
            20,
            "education",
            "care_plan",
            "School support plan",
            "Quiet room available; gradual return to full days; check-in each morning.",
        )
