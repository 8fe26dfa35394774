from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Records"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from records import events, panels  # noqa: F401 - registers the kind and panels
        from records.selectors import forget_access_client_permission_id

        # Permissions may be written anew (a migrate, a test's flush).
        post_migrate.connect(forget_access_client_permission_id, dispatch_uid="records.permission")
