"""Credentials in the admin: never shown, never minted.

Device tokens are not registered at all (knox's own token admin is not either:
its model is swapped out for accounts.DeviceToken), so no admin page can show a
token, its digest, or make one. The provider admin gains one duty: an account
set inactive — or active again — loses every token it had.
"""

from django.contrib import admin

from accounts.services import revoke_all_tokens
from records.admin import ProviderAdmin
from records.models import Provider


class ProviderCredentialsAdmin(ProviderAdmin):
    def save_model(self, request, obj: Provider, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            # Reactivation too: a token from before the deactivation never comes back.
            revoke_all_tokens(obj)


admin.site.unregister(Provider)
admin.site.register(Provider, ProviderCredentialsAdmin)
