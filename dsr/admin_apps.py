"""The admin app, configured to use DsrAdminSite (kept apart: app configs load before models)."""

from django.contrib.admin.apps import AdminConfig


class DsrAdminConfig(AdminConfig):
    default_site = "dsr.admin_site.DsrAdminSite"
