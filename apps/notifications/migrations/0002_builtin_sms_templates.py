"""The built-in SMS templates. Created when missing, never overwritten: staff may have edited them."""

from django.db import migrations

BUILTIN = {
    "phone_verification": (
        "Confirms a new phone number.",
        "{{ code }} is your {{ site_name }} verification code. It expires in {{ valid_for }}.",
    ),
    "2fa_code": (
        "The second step of signing in.",
        "{{ code }} is your {{ site_name }} sign-in code. It expires in {{ valid_for }}. "
        "Never share it with anyone.",
    ),
    "password_reset_code": (
        "Resets a password from a verified phone.",
        "{{ code }} is your {{ site_name }} password reset code. It expires in {{ valid_for }}. "
        "If you did not ask for it, ignore this message.",
    ),
    "booking_reminder": (
        "The day before a confirmed booking.",
        "Reminder: {{ service }} with {{ provider }} on {{ start }}. {{ site_name }}",
    ),
}


def create_missing(apps, schema_editor):
    SMSTemplate = apps.get_model("notifications", "SMSTemplate")
    for key, (description, body) in BUILTIN.items():
        SMSTemplate.objects.get_or_create(key=key, defaults={"description": description, "body": body})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create_missing, migrations.RunPython.noop)]
