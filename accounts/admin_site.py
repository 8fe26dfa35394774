"""The admin site of CareLink."""

from django.contrib import admin


class CareLinkAdminSite(admin.AdminSite):
    site_header = "CareLink administration"
    site_title = "CareLink admin"
