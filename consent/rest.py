"""The shape of a consent directive in the API, for every face that shows one:
the consent API, and the client portal's (which may import this, not
consent's views)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consent.models import ConsentDirective
from core.vocabulary import Category


class RecordedBySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class DirectiveSerializer(serializers.ModelSerializer):
    """`recorded_by` is the provider who witnessed the decision; a decision the
    client recorded themself through the portal has `recorded_by` null and
    `recorded_by_client` true (docs/portal.md)."""

    categories = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()
    recorded_by = serializers.SerializerMethodField()
    recorded_by_client = serializers.SerializerMethodField()

    class Meta:
        model = ConsentDirective
        fields = [
            "id",
            "client",
            "effect",
            "grantee_organization",
            "grantee_sector",
            "categories",
            "valid_from",
            "expires_at",
            "revoked_at",
            "recorded_by",
            "recorded_by_client",
            "recorded_at",
            "policy",
            "note",
            "active",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Category.choices)))
    def get_categories(self, directive: ConsentDirective) -> list[str]:
        return directive.categories

    def get_active(self, directive: ConsentDirective) -> bool:
        return directive.is_active()

    @extend_schema_field(RecordedBySerializer(allow_null=True))
    def get_recorded_by(self, directive: ConsentDirective) -> dict | None:
        if directive.recorded_by.client_id is not None:
            return None
        return {"id": directive.recorded_by_id, "full_name": directive.recorded_by.display_name}

    def get_recorded_by_client(self, directive: ConsentDirective) -> bool:
        return directive.recorded_by.client_id is not None
