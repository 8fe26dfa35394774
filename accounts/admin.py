"""Credentials in the admin: never shown, never minted.

Device tokens are not registered (knox's own token admin registers nothing
either: its model is swapped out for accounts.DeviceToken), and django-otp's
device admins — which show TOTP keys, QR codes and recovery codes — are taken
away. What a system admin may do is take credentials away: an account set
inactive, or active again, loses every token it had, and "Reset second factor"
makes a provider who lost their phone enrol again at the next sign-in.
"""

from django.contrib import admin, messages
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.second_factor import reset_second_factor
from accounts.services import revoke_all_tokens
from records.admin import ProviderAdmin
from records.models import Provider


class ProviderCredentialsAdmin(ProviderAdmin):
    actions = ["reset_second_factor"]

    def save_model(self, request, obj: Provider, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            # Reactivation too: a token from before the deactivation never comes back.
            revoke_all_tokens(obj)

    @admin.action(description="Reset second factor (they enrol again at sign-in)")
    def reset_second_factor(self, request, queryset) -> None:
        for provider in queryset:
            reset_second_factor(provider)
        messages.success(request, f"Second factor reset for {queryset.count()} provider(s).")


admin.site.unregister(Provider)
admin.site.register(Provider, ProviderCredentialsAdmin)
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)
