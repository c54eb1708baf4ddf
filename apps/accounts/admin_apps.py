from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin, with the accounts' AdminSite as `admin.site` (see INSTALLED_APPS).

    Apart from apps/accounts/admin_site.py: an app config is imported before any model is loaded,
    and the site needs the accounts models and services.
    """

    default_site = "apps.accounts.admin_site.AdminSite"
