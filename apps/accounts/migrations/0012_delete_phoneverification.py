"""Phone verifications are SMS codes now (0011)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_phone_verifications_to_sms_codes"),
    ]

    operations = [
        migrations.DeleteModel(name="PhoneVerification"),
    ]
