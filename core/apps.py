from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Audit and routing"

    def ready(self) -> None:
        from django.db import models
        from rest_framework import serializers

        from core.rest import UTCDateTimeField

        # Every model timestamp a serializer writes is written in UTC.
        serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = (
            UTCDateTimeField
        )
