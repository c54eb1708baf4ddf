"""What `startapp --template templates/app_template` and `newapp` share: the names the template
uses, and the edits that register a new app in the files that list the apps.

Each registration is an edit of a list in a file that ruff keeps one item per line (a trailing
comma holds it so): the item goes in as the list's last line, unless it is there already, so
running `newapp` twice changes nothing the second time. A list not found where it should be is
an error naming the file and the line to add by hand; nothing is half-written. Only text is read
and written here: `core` imports no app, and the command must run before the new app is installed.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

TEMPLATE_DIR = Path(settings.BASE_DIR) / "templates" / "app_template"
DATABASES = ("default", "analytics", "logs")
MAX_INDEX_NAME = 30  # Django refuses longer index names (models.E034)


class RegistrationError(Exception):
    """A file does not have the list where the edit expects it."""


def singular(word: str) -> str:
    """The usual English singular of an app's name: `widgets` -> `widget`, `categories` -> `category`.
    Irregular ones are named with `--model`."""
    for plural, replacement in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if word.endswith(plural):
            return word[: -len(plural)] + replacement
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def template_names(app_label: str, model_class: str | None = None) -> dict[str, str]:
    """Every name the template uses, from the app's label (`stock_items`) and its model's class
    (`StockItem`, by default the label in the singular)."""
    model_class = model_class or "".join(part.capitalize() for part in singular(app_label).split("_"))
    entity = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", model_class).lower()  # StockItem -> stock_item
    model_name = model_class.lower()  # Django's model_name: permissions, admin URLs
    index_suffix = "_active_idx"
    index_name = f"{app_label}_{model_name}"[: MAX_INDEX_NAME - len(index_suffix)].rstrip("_") + index_suffix
    return {
        "model_class": model_class,
        "model_name": model_name,
        "entity": entity,
        "verbose_name": entity.replace("_", " "),
        "verbose_name_plural": app_label.replace("_", " "),
        "url_prefix": app_label.replace("_", "-"),
        "index_name": index_name,
    }


@dataclass(frozen=True)
class Registration:
    """One item added to one list of one file."""

    path: str  # relative to the project's root
    what: str  # for people: "LOCAL_APPS in config/settings/base.py"
    start: str | tuple[str, ...]  # the text that opens the list (unique in the file), or alternatives
    end: str  # the text that closes it: the first one after `start`
    line: str  # the item's line, indentation and trailing comma included
    present: str  # text whose presence inside the list means the item is there already

    def apply(self, text: str) -> str:
        """`text` with the item added; `text` itself when it is there already."""
        starts = (self.start,) if isinstance(self.start, str) else self.start
        found = [start for start in starts if text.count(start) == 1]
        if not found:
            raise RegistrationError(self._by_hand(f"{starts[0].strip()!r} is not in the file exactly once"))
        begin = text.find(found[0])
        stop = text.find(self.end, begin + len(found[0]))
        if stop == -1:
            raise RegistrationError(self._by_hand(f"the end of {found[0].strip()!r} was not found"))
        if self.present in text[begin:stop]:
            return text
        return text[:stop] + "\n" + self.line.rstrip("\n") + text[stop:]

    def _by_hand(self, problem: str) -> str:
        return f"{self.path}: {problem}; add to {self.what} by hand:\n{self.line}"


def registrations(app_label: str, *, database: str = "default") -> list[Registration]:
    """The lists a new app joins: installed apps, its database when not `default`, the manager
    role's permissions, the schema's tags, and the import contract that keeps `core` a kernel."""
    if database not in DATABASES:
        raise RegistrationError(f"Unknown database {database!r}: one of {', '.join(DATABASES)}.")
    title = app_label.replace("_", " ").capitalize()
    found = [
        Registration(
            path="config/settings/base.py",
            what="LOCAL_APPS in config/settings/base.py",
            start="LOCAL_APPS = [",
            end="\n]",
            line=f'    "apps.{app_label}",',
            present=f'"apps.{app_label}"',
        ),
        Registration(
            path="config/settings/base.py",
            what='the "TAGS" of SPECTACULAR_SETTINGS in config/settings/base.py',
            start='    "TAGS": [',
            end="\n    ],",
            line=f'        {{"name": "{app_label.replace("_", "-")}", "description": "{title}."}},',
            present=f'"name": "{app_label.replace("_", "-")}"',
        ),
        Registration(
            path="apps/roles/spec.py",
            what="the manager role's permissions in apps/roles/spec.py",
            start=("    SystemRole.MANAGER: RoleSpec(", '    "manager": RoleSpec('),
            end="\n        ),",
            line=f'            "{app_label}.*",',
            present=f'"{app_label}.*"',
        ),
        Registration(
            path="pyproject.toml",
            what='the forbidden_modules of "core is a kernel" in pyproject.toml',
            start='name = "core is a kernel: it imports no domain app"',
            end="\n]",
            line=f'    "apps.{app_label}",',
            present=f'"apps.{app_label}"',
        ),
    ]
    if database != "default":
        found.insert(
            1,
            Registration(
                path="config/settings/base.py",
                what="DATABASE_APPS_MAPPING in config/settings/base.py",
                start="DATABASE_APPS_MAPPING = {",
                end="\n}",
                line=f'    "{app_label}": "{database}",',
                present=f'"{app_label}":',
            ),
        )
    return found


def register(root: Path, app_label: str, *, database: str = "default") -> list[Registration]:
    """Apply every registration under `root`; the ones that changed a file. Every file is checked
    before any is written, so a file that cannot be edited leaves all of them as they were."""
    texts: dict[str, str] = {}
    changed = []
    for registration in registrations(app_label, database=database):
        before = texts.get(registration.path) or (root / registration.path).read_text()
        after = registration.apply(before)
        texts[registration.path] = after
        if after != before:
            changed.append(registration)
    for path, text in texts.items():
        if (root / path).read_text() != text:
            (root / path).write_text(text)
    return changed
