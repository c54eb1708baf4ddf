from django.core.management.base import BaseCommand

from apps.roles.services import roles_seed


class Command(BaseCommand):
    help = "Create or update the system roles (admin, manager, provider, customer) from apps/roles/spec.py."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would change, change nothing.")

    def handle(self, *args, dry_run: bool, **options):
        changes = [change for change in roles_seed(dry_run=dry_run) if change.changed]
        for change in changes:
            verb = "create" if change.created else "update"
            heading = f"Would {verb}" if dry_run else f"{verb.capitalize()}d"
            self.stdout.write(f"{heading} role {change.role!r}")
            if change.description_changed:
                self.stdout.write("  description")
            for name in change.added:
                self.stdout.write(f"  + {name}")
            for name in change.removed:
                self.stdout.write(f"  - {name}")
        if not changes:
            self.stdout.write("System roles are up to date; nothing to change.")
        elif dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was changed."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Seeded {len(changes)} role(s)."))
