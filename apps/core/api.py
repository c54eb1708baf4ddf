"""Small building blocks for ViewSets."""

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny

from apps.core.fields import MAX_ID
from apps.core.throttles import FixedWindowRateThrottle

# The path id of every detail route: digits only, at most as many as the largest bigint has.
ID_PATTERN = r"[0-9]{1,19}"


def validated(serializer_class, request, **kwargs) -> dict:
    """The request body validated by `serializer_class`; a 400 with field errors otherwise.

    Every API write reads its body here, so this is where a field the serializer does not take is
    refused (see `unexpected_fields`).
    """
    serializer = serializer_class(data=request.data, **kwargs)
    unexpected = unexpected_fields(serializer, request.data)
    if not serializer.is_valid() or unexpected:
        # Both at once: a misspelt name is the unknown field and the missing one.
        raise ValidationError({**serializer.errors, **unexpected})
    return serializer.validated_data


def unexpected_fields(serializer, data, prefix: str = "") -> dict[str, list[str]]:
    """The body's fields that `serializer` does not write, as field errors keyed by dotted path.

    DRF drops unknown and read-only fields without a word, so `{"is_staff": true}` or a misspelt
    `{"is_actve": false}` answered 200 and changed nothing: the client believes a change that
    never happened. Nested serializers (and lists of them) are walked too.
    """
    if not isinstance(data, Mapping):
        return {}
    fields = serializer.fields
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        path = f"{prefix}{name}"
        field = fields.get(name)
        if field is None:
            errors[path] = [_("Unknown field. Allowed: %(names)s.") % {"names": _writable_names(fields)}]
        elif field.read_only:
            errors[path] = [_("This field is read-only.")]
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            for index, item in enumerate(value):
                errors.update(unexpected_fields(field.child, item, f"{path}.{index}."))
        elif isinstance(field, serializers.BaseSerializer):
            errors.update(unexpected_fields(field, value, f"{path}."))
    return errors


def _writable_names(fields) -> str:
    return ", ".join(sorted(name for name, field in fields.items() if not field.read_only)) or "none"


def public_action(**kwargs):
    """A ViewSet action anyone may call without a token: sign-in, refresh, password reset.

    No authentication runs at all, so a stale or broken `Authorization` header that a client
    sends along does not stand between it and the endpoint that would fix it.
    """
    return action(authentication_classes=[], permission_classes=[AllowAny], **kwargs)


class GenericViewSet(viewsets.GenericViewSet):
    """DRF's GenericViewSet, with the general throttles checked before the permissions (made once
    per request) and the filter backends run only for `list`.

    The general throttle's round trip brings the caller's cached permission set along (see
    `ReadAlong` in apps/core/throttles.py), so it must come first; DRF checks permissions first
    and would pay a round trip of its own for them. The security throttles still run after the
    permissions: some count per signed-in user, which an anonymous caller is not. DRF's
    get_object() runs the filter backends too, so every retrieve, update and custom detail
    action built a django-filter form and parsed search and ordering parameters that cannot apply
    to one object.

    Path ids: every detail route takes digits only (`lookup_value_regex`), and a number outside
    1..2**63 - 1 (a bigint key) is a 404 before authentication, as a path the router does not
    know is: no such row can exist, and the database must not be asked (PostgreSQL would fail on
    it, a 500). A 404, not a 400: the path names no resource, which is what 404 says everywhere
    else in this API.
    """

    lookup_value_regex = ID_PATTERN

    def initial(self, request, *args, **kwargs):
        self._check_path_id(kwargs)
        super().initial(request, *args, **kwargs)

    def _check_path_id(self, kwargs) -> None:
        value = kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if value is None or self.lookup_value_regex != ID_PATTERN:
            return
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID):
            raise NotFound()

    def check_permissions(self, request):
        self._check_throttles(request, general=True)
        super().check_permissions(request)

    def check_throttles(self, request):
        self._check_throttles(request, general=False)

    def get_throttles(self):
        # Asked up to three times a request (the auth cache's round trip counting ahead, then the
        # general and the security checks): the throttles are made, and their rates parsed, once.
        # A copy each time, since subclasses add their own to the list.
        if not hasattr(self, "_throttles"):
            self._throttles = super().get_throttles()
        return list(self._throttles)

    def _check_throttles(self, request, *, general: bool) -> None:
        # DRF's check_throttles, over one kind of throttle.
        waits = [
            throttle.wait()
            for throttle in self.get_throttles()
            if isinstance(throttle, FixedWindowRateThrottle) == general
            and not throttle.allow_request(request, self)
        ]
        if waits:
            self.throttled(request, max((wait for wait in waits if wait is not None), default=None))

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)
