from django.core.management.base import BaseCommand

from apps.roles.services import roles_seed


class Command(BaseCommand):
    help = (
        "Create or update the system roles (admin, manager, provider, customer) from apps/roles/spec.py. "
        "One line per changed role; --verbosity 2 or --dry-run lists every permission added or removed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would change, change nothing.")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        changes = [change for change in roles_seed(dry_run=dry_run) if change.changed]
        if verbosity == 0:
            return
        # The first `make run` seeds every role from scratch: well over a hundred permission lines
        # that pushed the dev admin's password off the screen. A line per role says what happened.
        itemised = dry_run or verbosity >= 2
        for change in changes:
            verb = "create" if change.created else "update"
            heading = f"Would {verb}" if dry_run else f"{verb.capitalize()}d"
            if not itemised:
                self.stdout.write(f"{heading} role {change.role!r}: {self._counts(change)}")
                continue
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
            hint = "" if itemised else " (--verbosity 2 lists each permission)"
            self.stdout.write(self.style.SUCCESS(f"Seeded {len(changes)} role(s){hint}."))

    @staticmethod
    def _counts(change) -> str:
        parts = []
        if change.added:
            parts.append(f"{len(change.added)} permission(s) added")
        if change.removed:
            parts.append(f"{len(change.removed)} removed")
        if change.description_changed:
            parts.append("description")
        return ", ".join(parts) or "no permission changes"
