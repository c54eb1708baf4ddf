"""SMS codes take phone verification as a purpose (its rows move here in 0011)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_two_factor_challenge"),
    ]

    operations = [
        migrations.AlterField(
            model_name="smscode",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("phone_verification", "Verify a phone number"),
                    ("sign_in", "Sign in"),
                    ("two_factor_change", "Change two-factor sign-in"),
                    ("password_reset", "Reset the password"),
                ],
                max_length=32,
            ),
        ),
        migrations.AddField(
            model_name="smscode",
            name="legacy_verification_id",
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RemoveConstraint(
            model_name="smscode",
            name="accounts_sms_code_challenge_for_sign_in",
        ),
        migrations.AddConstraint(
            model_name="smscode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("challenge__isnull", True),
                        ("purpose__in", ["phone_verification", "two_factor_change", "password_reset"]),
                    ),
                    models.Q(("challenge__isnull", False), ("purpose", "sign_in")),
                    _connector="OR",
                ),
                name="accounts_sms_code_challenge_for_sign_in",
            ),
        ),
        migrations.AddConstraint(
            model_name="smscode",
            constraint=models.CheckConstraint(
                condition=models.Q(("phone", ""), _negated=True), name="accounts_sms_code_has_phone"
            ),
        ),
        migrations.AddConstraint(
            model_name="smscode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("legacy_verification_id__isnull", True),
                    ("purpose", "phone_verification"),
                    _connector="OR",
                ),
                name="accounts_sms_code_legacy_id_of_verification",
            ),
        ),
    ]
