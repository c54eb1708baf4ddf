import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User


class Command(BaseCommand):
    help = "Create a local superuser on first run and print its credentials (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument("--username", default="admin")

    def handle(self, *args, email: str, username: str, **options):
        if not settings.DEBUG:
            raise CommandError("ensure_dev_admin only runs with DEBUG on; use createsuperuser elsewhere.")
        if User.objects.with_email(email).exists():
            self.stdout.write(
                f"Dev admin {email} already exists (reset with: manage.py changepassword {email})."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(email, username, password, email_verified_at=None)
        # Framed, and the last thing `make run` prints before the server's banner, so it is seen.
        lines = [
            f"Created dev admin (sign in at /{settings.ADMIN_URL.lstrip('/')})",
            f"email:    {email}",
            f"password: {password}",
            "shown once: note it now",
        ]
        rule = "=" * (max(map(len, lines)) + 4)
        self.stdout.write(self.style.SUCCESS("\n".join([rule, *(f"  {line}" for line in lines), rule])))
