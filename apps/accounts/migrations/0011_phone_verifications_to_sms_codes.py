"""Every phone verification becomes an SMS code of purpose `phone_verification`.

A pending code stays valid: its hash, expiry, tries, sending and use times and number move as they
are. Its hash was made with the id of its row here, which the new row keeps as
`legacy_verification_id` (apps.accounts.tokens.sms_code_matches checks it); an SMS still queued for
it names that id too, and finds the new row by it (services/sms_codes.py: sms_code_make).

Backwards, the codes go back to this table: one moved here keeps its former id, so its code still
works if it was not texted again meanwhile; one made since then takes its SMS code's id where free
(an SMS queued for it names that id), and needs to be asked for again: the older code cannot check
its hash.
"""

from django.core.management.color import no_style
from django.db import migrations

PHONE_VERIFICATION = "phone_verification"
BATCH = 2000


def phone_verifications_to_sms_codes(apps, schema_editor):
    db = schema_editor.connection.alias
    PhoneVerification = apps.get_model("accounts", "PhoneVerification")
    SMSCode = apps.get_model("accounts", "SMSCode")
    verifications = PhoneVerification.objects.using(db).order_by("pk")
    batch = []
    for verification in verifications.iterator(chunk_size=BATCH):
        batch.append(
            SMSCode(
                user_id=verification.user_id,
                purpose=PHONE_VERIFICATION,
                phone=verification.phone,
                code_hash=verification.code_hash,
                created_at=verification.created_at,
                sent_at=verification.code_sent_at,
                expires_at=verification.expires_at,
                attempts=verification.attempts,
                used_at=verification.used_at,
                legacy_verification_id=verification.pk,
            )
        )
        if len(batch) == BATCH:
            SMSCode.objects.using(db).bulk_create(batch)
            batch = []
    SMSCode.objects.using(db).bulk_create(batch)
    verifications.delete()


def sms_codes_to_phone_verifications(apps, schema_editor):
    connection = schema_editor.connection
    PhoneVerification = apps.get_model("accounts", "PhoneVerification")
    SMSCode = apps.get_model("accounts", "SMSCode")
    codes = SMSCode.objects.using(connection.alias).filter(purpose=PHONE_VERIFICATION).order_by("pk")
    former = set(codes.exclude(legacy_verification_id=None).values_list("legacy_verification_id", flat=True))
    next_free = max([*former, *codes.values_list("pk", flat=True)], default=0) + 1
    rows = []
    for code in codes.iterator(chunk_size=BATCH):
        pk = code.legacy_verification_id
        if pk is None and code.pk not in former:
            pk = code.pk
        elif pk is None:
            pk, next_free = next_free, next_free + 1
        rows.append(
            PhoneVerification(
                pk=pk,
                user_id=code.user_id,
                phone=code.phone,
                code_hash=code.code_hash,
                created_at=code.created_at,
                code_sent_at=code.sent_at,
                expires_at=code.expires_at,
                attempts=code.attempts,
                used_at=code.used_at,
            )
        )
    PhoneVerification.objects.using(connection.alias).bulk_create(rows, batch_size=BATCH)
    # The ids were given, not drawn: the next row must be drawn above them.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [PhoneVerification]):
            cursor.execute(statement)
    codes.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_sms_code_for_phone_verification"),
    ]

    operations = [
        migrations.RunPython(phone_verifications_to_sms_codes, sms_codes_to_phone_verifications),
    ]
