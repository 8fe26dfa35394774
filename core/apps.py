from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Audit and routing"

    def ready(self) -> None:
        from django.db import models
        from rest_framework import serializers

        from core.rest import Text, UTCDateTimeField

        # Every model timestamp a serializer writes is written in UTC.
        serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = (
            UTCDateTimeField
        )
        # Text fields derived from models take JSON strings only (core.rest.Text).
        for text in (models.CharField, models.TextField):
            serializers.ModelSerializer.serializer_field_mapping[text] = Text
