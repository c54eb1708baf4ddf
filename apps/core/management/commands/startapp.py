"""Django's `startapp`, with the names templates/app_template needs besides `app_name`.

    manage.py startapp widgets apps/widgets --template templates/app_template [--model Widget]

renders a complete app whose model is `Widget` (by default the app's name in the singular), with
its tests in `apps/widgets/tests/`. `manage.py newapp widgets` does the same, moves the tests to
`tests/widgets/` and registers the app; see "Adding a module" in the README. Without `--template`
this is Django's own command: its default template ignores the extra names.
"""

from django.core.management.commands.startapp import Command as DjangoStartAppCommand

from apps.core.management.app_template import template_names


class Command(DjangoStartAppCommand):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--model", help="The model's class name; by default the app's name in the singular (Widget)."
        )

    def handle(self, **options):
        # TemplateCommand renders every option into the template's context: the names go with them.
        options.update(template_names(options["name"], options.pop("model", None)))
        super().handle(**options)
