from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Sign-in and credentials: API tokens, the second factor, the per-address
    sign-in throttle, and the HTTP hardening around them (docs/security.md)."""

    default = True
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  (registers the token scheme)


class CareLinkAdminConfig(admin_apps.AdminConfig):
    """The admin, signed in through the same pages as everyone (second factor included)."""

    default = False
    default_site = "accounts.admin_site.CareLinkAdminSite"
