from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """For records nobody may edit: events and logs are evidence, not data to correct."""

    list_per_page = 50
    # Event tables grow without bound; an exact COUNT(*) on every page load is not worth it.
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def adopt_saved(obj, saved) -> None:
    """Give the admin's `obj` the state a service saved into `saved`.

    An admin whose writes go through a service goes on with the instance its form built, for the
    history entry, the message and the redirect.
    """
    if obj is saved:
        return
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db
