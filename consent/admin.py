"""Django admin: consent policies (privacy officers' templates)."""

from django.contrib import admin

from consent.models import ConsentPolicy, ConsentPolicyRule


class ConsentPolicyRuleInline(admin.TabularInline):
    model = ConsentPolicyRule
    extra = 1
    fields = ["effect", "grantee_organization", "grantee_sector", "categories"]


@admin.register(ConsentPolicy)
class ConsentPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "updated_at", "archived_at"]
    search_fields = ["name"]
    fields = ["name", "description", "archived_at"]
    inlines = [ConsentPolicyRuleInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # archive instead: applied directives point at the policy
