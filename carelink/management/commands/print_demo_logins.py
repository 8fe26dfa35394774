"""Print the demo's logins, one line per provider, grouped by story."""

from django.conf import settings
from django.core.management.base import BaseCommand

from carelink.management.commands.load_demo import DEMO_PASSWORD, PORTAL_USERNAME, PROVIDERS


class Command(BaseCommand):
    help = "Print the demo logins."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--served-at",
            default=None,
            help="The address the server actually listens on (make demo passes its PORT); "
            "by default CARELINK_BASE_URL.",
        )

    def handle(self, *args, **options) -> None:
        base = (options["served_at"] or settings.CARELINK_BASE_URL).rstrip("/")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"CareLink demo — {base}/"))
        self.stdout.write(f"Every demo login has the password: {DEMO_PASSWORD}")
        self.stdout.write("")
        self.stdout.write(f"  {'username':<17} {'role':<17} {'organization':<33} who")
        for p in PROVIDERS:
            self.stdout.write(f"  {p.username:<17} {p.role:<17} {p.organization:<33} {p.who}")
        self.stdout.write(
            f"  {PORTAL_USERNAME:<17} {'client (portal)':<17} {'—':<33} "
            "Ana Silva herself, on the client portal"
        )
        self.stdout.write("")
        self.stdout.write(f"Browser: {base}/accounts/login/    API docs: {base}/api/docs/")
        self.stdout.write(
            "API: curl -s -X POST -H 'Content-Type: application/json' "
            f'-d \'{{"username": "intake_kim", "password": "{DEMO_PASSWORD}"}}\' '
            f"{base}/api/v1/auth/token/"
        )
        self.stdout.write("")
