"""`manage.py newapp widgets [--model Widget] [--database default|analytics|logs]`: a new app,
complete and registered.

It renders templates/app_template into `apps/widgets/` (model, migration, services, selectors,
serializers, filters, ViewSet, admin, the message-kinds hook) and its tests into `tests/widgets/`,
then adds the app to every list that names the apps (see `apps.core.management.app_template`):
LOCAL_APPS, DATABASE_APPS_MAPPING (for `analytics` or `logs`), the manager role's permissions, the
schema's tags and the import contract. The API root finds its `urls.py` by itself. An app that
exists already (made with `startapp --template`) is only registered, its tests moved to
`tests/<app>/`; a second run changes nothing.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.core.management.app_template import (
    DATABASES,
    TEMPLATE_DIR,
    RegistrationError,
    register,
    template_names,
)


class Command(BaseCommand):
    help = "Create a complete app from templates/app_template and register it everywhere apps are listed."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The app's label: lower case, plural (widgets, stock_items).")
        parser.add_argument("--model", help="The model's class name; by default the name in the singular.")
        parser.add_argument(
            "--database",
            choices=DATABASES,
            default="default",
            help="The database its tables live in (DATABASE_APPS_MAPPING); default: default.",
        )

    def handle(self, *args, name: str, model: str | None, database: str, **options):
        if not (name.isidentifier() and name.islower() and name.isascii()):
            raise CommandError(f"{name!r}: the app's name is a lower-case Python identifier (widgets).")
        root = Path(settings.BASE_DIR)
        app_dir, tests_dir = root / "apps" / name, root / "tests" / name
        if f"apps.{name}" in settings.LOCAL_APPS:
            raise CommandError(f"apps.{name} is installed already.")
        if app_dir.exists():
            self.stdout.write(f"apps/{name}/ exists: registering it only.")
            if (app_dir / "tests").is_dir() and not tests_dir.exists():
                self._move_tests(app_dir, tests_dir)
        else:
            if tests_dir.exists():
                raise CommandError(f"tests/{name}/ exists already; move it away first.")
            self._render(name, model, app_dir)
            self._move_tests(app_dir, tests_dir)
        try:
            changed = register(root, name, database=database)
        except RegistrationError as exc:
            raise CommandError(str(exc)) from exc
        for registration in changed:
            self.stdout.write(f"Registered in {registration.what}.")
        if not changed:
            self.stdout.write("Already registered everywhere.")
        names = template_names(name, model)
        self.stdout.write(
            self.style.SUCCESS(f"apps.{name} is ready.")
            + " By hand: who besides managers may use it (apps/roles/spec.py), the tag's description "
            f"(SPECTACULAR_SETTINGS), the README; then `make lint` and `make test ARGS=tests/{name}`. "
            f"Model: {names['model_class']}; database: {database}."
        )

    def _render(self, name: str, model: str | None, app_dir: Path) -> None:
        app_dir.mkdir(parents=True)
        try:
            call_command("startapp", name, str(app_dir), template=str(TEMPLATE_DIR), model=model, verbosity=0)
        except BaseException:
            shutil.rmtree(app_dir, ignore_errors=True)
            raise
        self.stdout.write(f"Created apps/{name}/.")

    def _move_tests(self, app_dir: Path, tests_dir: Path) -> None:
        # The suite mirrors the apps: tests/<app>/, not a package inside the app.
        shutil.move(app_dir / "tests", tests_dir)
        self.stdout.write(f"Moved its tests to tests/{tests_dir.name}/.")
