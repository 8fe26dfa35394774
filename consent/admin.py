"""Django admin: consent policies (privacy officers' templates) and a read-only access log."""

from django.contrib import admin

from consent.models import AccessEvent, ConsentPolicy, ConsentPolicyRule


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


@admin.register(AccessEvent)
class AccessEventAdmin(admin.ModelAdmin):
    """The audit trail: readable by system admins, never editable or deletable."""

    list_display = ["at", "client_id", "provider", "organization", "action", "emergency"]
    list_filter = ["emergency", "action"]
    list_select_related = ["provider", "organization"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
