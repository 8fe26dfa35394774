"""Mail for tests that need it to fail."""


def point_mail_at_nothing(settings) -> None:
    """Every email fails to send: a mail server that does not answer (both
    Django 6.1's MAILERS and 5.2's EMAIL_* settings)."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1},
        }
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
