"""One permission mechanism for every ViewSet.

`ModelPermissions` maps a ViewSet's action to the Django model permission it needs:

    list, retrieve         -> <app>.view_<model>
    create                 -> <app>.add_<model>
    update, partial_update -> <app>.change_<model>
    destroy                -> <app>.delete_<model>

A ViewSet declares anything else in one place, `action_permissions`:

    action_permissions = {"me": [], "adjust_stock": ["products.adjust_stock"]}

An empty list means "any authenticated user"; an action that is neither mapped nor
declared is refused. Anonymous access is opt-in per action with `public_actions`; `OPTIONS` on
a URL is public when one of the actions routed there is (describing an endpoint anyone may call
needs no token).
Whose objects a user may see is decided by the ViewSet's queryset (others' objects
are 404), never here. Superusers pass every check. A method the view does not allow is
a 405 for every signed-in caller, whatever they hold; anonymous callers get 401 first.
"""

from rest_framework.permissions import BasePermission

CRUD_PERMISSIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def required_permissions(view, action: str | None) -> list[str] | None:
    """The permission names `action` needs, or None when the action is not allowed at all."""
    declared = getattr(view, "action_permissions", {})
    if action in declared:
        return list(declared[action])
    if action == "metadata":  # OPTIONS: describing the endpoint needs nothing beyond authentication
        return []
    verb = CRUD_PERMISSIONS.get(action)
    model = getattr(view, "permission_model", None) or getattr(getattr(view, "queryset", None), "model", None)
    if verb is None or model is None:
        return None
    return [f"{model._meta.app_label}.{verb}_{model._meta.model_name}"]


class ModelPermissions(BasePermission):
    def has_permission(self, request, view) -> bool:
        action = getattr(view, "action", None)
        public_actions = getattr(view, "public_actions", ())
        if action in public_actions:
            return True
        if action == "metadata" and set(getattr(view, "action_map", {}).values()) & set(public_actions):
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if action is None or request.method.lower() not in view.http_method_names:
            # A method this ViewSet does not route or does not allow: let DRF answer 405. The
            # router maps PUT to `update` even where http_method_names leaves PUT out, and
            # "you may not" would be the wrong answer to something nobody may do.
            return True
        needed = required_permissions(view, action)
        if needed is None:
            return False
        return user.has_perms(needed)
