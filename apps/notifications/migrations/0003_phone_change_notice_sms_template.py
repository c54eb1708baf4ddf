"""The SMS copy of `phone_change_notice`, sent to the number an account's new one replaced.
Created when missing, never overwritten: staff may have edited it."""

from django.db import migrations

KEY = "phone_change_notice"
DESCRIPTION = "Tells the number an account replaced that it no longer receives the account's codes."
BODY = (
    "The phone number of your {{ site_name }} account was changed; this number no longer gets its "
    "codes. If this was not you, change your password now."
)


def create_missing(apps, schema_editor):
    SMSTemplate = apps.get_model("notifications", "SMSTemplate")
    SMSTemplate.objects.get_or_create(key=KEY, defaults={"description": DESCRIPTION, "body": BODY})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_builtin_sms_templates")]

    operations = [migrations.RunPython(create_missing, migrations.RunPython.noop)]
