"""Emails and names refuse invisible and control characters from now on (apps.core.validators).

Rows that have some already are reported, not changed: such an address may be a look-alike of
another account, or a real user's typo, and only a person can tell which. The report names user
ids, fields and code points (never the addresses); staff decide in the admin, where saving the
user asks for a clean value.
"""

import sys

import django.contrib.auth.validators
from django.db import migrations, models

import apps.core.validators
from apps.core.validators import invisible_characters

FIELDS = ("email", "username", "full_name")


def report_invisible_characters(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    found = []
    rows = User.objects.using(schema_editor.connection.alias).order_by("pk").values_list("pk", *FIELDS)
    for pk, *values in rows.iterator(chunk_size=2000):
        for field, value in zip(FIELDS, values, strict=True):
            characters = invisible_characters(value or "")
            if characters:
                found.append(f"user {pk} {field}: {', '.join(characters)}")
    if found:
        # On migrate's own output, beside the operations it lists.
        lines = [f"{len(found)} user field(s) with invisible or control characters, left as they are:"]
        sys.stdout.write("\n  " + "\n    ".join(lines + found) + "\n")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_auth_session_expired_reason"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email",
            field=models.EmailField(
                error_messages={"unique": "A user with that email already exists."},
                max_length=254,
                unique=True,
                validators=[apps.core.validators.VisibleTextValidator()],
                verbose_name="email address",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="full_name",
            field=models.CharField(
                blank=True, max_length=150, validators=[apps.core.validators.VisibleTextValidator()]
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                help_text="150 characters or fewer: letters, digits and @ . + - _ only.",
                max_length=150,
                validators=[
                    django.contrib.auth.validators.UnicodeUsernameValidator(),
                    apps.core.validators.VisibleTextValidator(),
                ],
            ),
        ),
        migrations.RunPython(report_invisible_characters, migrations.RunPython.noop, elidable=True),
    ]
