"""Send each app's models to its own database.

The mapping lives in ``settings.DATABASE_APPS_MAPPING`` (app label -> alias); every
app not named there belongs to ``default``. One mapping drives reads, writes,
relations and migrations, so a table can only ever exist in the database that
serves it.
"""

from django.conf import settings


class DatabaseRouter:
    default_alias = "default"

    @property
    def routes(self) -> dict[str, str]:
        return settings.DATABASE_APPS_MAPPING

    def database_for(self, app_label: str) -> str:
        return self.routes.get(app_label, self.default_alias)

    def db_for_read(self, model, **hints):
        return self.database_for(model._meta.app_label)

    def db_for_write(self, model, **hints):
        return self.database_for(model._meta.app_label)

    def allow_relation(self, obj1, obj2, **hints):
        # No foreign key can span two databases; cross-database references are plain ids.
        return self.database_for(obj1._meta.app_label) == self.database_for(obj2._meta.app_label)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == self.database_for(app_label)
