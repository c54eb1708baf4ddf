from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from apps.accounts import (  # noqa: F401
            notifications,  # registers the account messages
            receivers,  # connects the signal receivers
        )
