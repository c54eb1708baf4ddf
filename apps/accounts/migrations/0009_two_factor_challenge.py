"""MFAChallenge is TwoFactorChallenge: one name, two-factor, in code and admin. A rename, so the
live challenges (and the SMS codes that point at them) are kept."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_user_text_without_invisible_characters"),
    ]

    operations = [
        migrations.RenameModel(old_name="MFAChallenge", new_name="TwoFactorChallenge"),
        migrations.AlterModelOptions(
            name="twofactorchallenge",
            options={"ordering": ["-created_at"], "verbose_name": "two-factor challenge"},
        ),
        migrations.AlterField(
            model_name="twofactorchallenge",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="two_factor_challenges",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RenameIndex(
            model_name="twofactorchallenge",
            new_name="accounts_challenge_user_time",
            old_name="accounts_mfa_user_time_idx",
        ),
        migrations.RemoveConstraint(model_name="twofactorchallenge", name="accounts_mfa_failures"),
        migrations.AddConstraint(
            model_name="twofactorchallenge",
            constraint=models.CheckConstraint(
                condition=models.Q(("failures__lte", models.F("attempts"))),
                name="accounts_two_factor_challenge_failures",
            ),
        ),
    ]
