"""Rewrite every stored phone number in E.164, before the column becomes a PhoneNumberField (0005).

`phone` was free text checked by a loose pattern, so rows hold national and spaced formats
("+44 20 7946 0958", "020 7946 0958"). Each is parsed with libphonenumber, a number without its
country code as one of PHONE_DEFAULT_REGION as configured when this runs (unset: GB; empty: only
numbers written with + and a country code parse). What parses to a valid number is stored as E.164
("+442079460958"); **what does not is blanked**: it could not be stored in the new field, and no
text message could reach it. None of these numbers was verified, so no account loses anything
that worked. Reversing leaves the E.164 values, which the old pattern accepts.
"""

import phonenumbers
from django.conf import settings
from django.db import migrations


def e164(text: str, region: str | None) -> str:
    """`text` as an E.164 number, or "" when it is not a valid one."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_numbers_to_e164(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    region = getattr(settings, "PHONE_DEFAULT_REGION", "GB") or None
    rows = User.objects.using(db).exclude(phone="").values_list("pk", "phone").order_by("pk")
    for pk, phone in rows.iterator():
        normalised = e164(phone, region)
        if normalised != phone:
            User.objects.using(db).filter(pk=pk).update(phone=normalised)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sessions_and_canonical_emails"),
    ]

    operations = [
        migrations.RunPython(phone_numbers_to_e164, migrations.RunPython.noop, elidable=True),
    ]
