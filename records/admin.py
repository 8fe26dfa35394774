"""Django admin for system admins: organizations and provider accounts.

Clients and entries are deliberately not registered: system admins see no
client's demographics or entries (docs/access-rules.md).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group

from records.models import Organization, Provider
from records.services import create_organization, sync_provider_group


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "created_at"]
    list_filter = ["sector"]
    search_fields = ["name"]
    fields = ["name", "sector"]

    def save_model(self, request, obj: Organization, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = create_organization(name=obj.name, sector=obj.sector)
        obj.pk, obj.group_id = created.pk, created.group_id

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # organizations are referenced by clinical data


@admin.register(Provider)
class ProviderAdmin(UserAdmin):
    list_display = ["username", "full_name", "organization", "role", "is_active", "last_login"]
    list_filter = ["organization", "role", "is_active", "is_superuser"]
    search_fields = ["username", "full_name", "email"]
    ordering = ["username"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["full_name", "email"]}),
        ("Organization", {"fields": ["organization", "role"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser", "last_login"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "full_name",
                    "organization",
                    "role",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login"]
    filter_horizontal: list = []

    def save_model(self, request, obj: Provider, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        sync_provider_group(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: providers author clinical data


admin.site.unregister(Group)
admin.site.site_header = "CareLink administration"
admin.site.site_title = "CareLink admin"
