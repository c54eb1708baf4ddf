"""Who is a provider, and what they offer: staff make a user a provider and stop them being one; a
provider changes their own time zone and services.

Being a provider is holding the `provider` role; the role is given and taken through the roles
app's services, so their rules (the caller holds what the role grants, only a superuser changes a
superuser) and their audit entries (`user.roles_update`) are the same as for any other role. The
user keeps every other role: a customer who becomes a provider can still book.

The products a provider offers (the API's `services`) may only be ones on sale
(`products_on_sale()`). A product they offered that went off sale meanwhile is neither shown nor
bookable; a new list of services leaves it attached, so it is offered again if it comes back on
sale. Taking a product off a provider's list changes no booking already made for it.
"""

from collections.abc import Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.bookings import selectors
from apps.bookings.models import ProviderProfile, validate_time_zone
from apps.bookings.services.schedule import provider_profile_for
from apps.core import errors
from apps.logs.services import audit
from apps.logs.snapshots import diff
from apps.products.selectors import products_on_sale
from apps.roles.services import user_role_add, user_role_remove, user_roles_change_check
from apps.roles.spec import SystemRole

MAX_SERVICES = 500


def _checked_time_zone(time_zone: str) -> str:
    try:
        validate_time_zone(time_zone)
    except DjangoValidationError as exc:
        raise errors.InvalidInput({"time_zone": exc.messages}) from exc
    return time_zone


def _checked_services(service_ids: Sequence[int]) -> list[int]:
    """The ids, each once, in order; each must be a product on sale (a 400 naming the item,
    `services.2`, otherwise)."""
    if len(service_ids) > MAX_SERVICES:
        raise errors.InvalidInput({"services": [_("At most %(n)d services.") % {"n": MAX_SERVICES}]})
    on_sale = set(products_on_sale().filter(pk__in=service_ids).values_list("pk", flat=True))
    problems = {
        f"services.{index}": [_("No product on sale has the id %(id)s.") % {"id": product_id}]
        for index, product_id in enumerate(service_ids)
        if product_id not in on_sale
    }
    if problems:
        raise errors.InvalidInput(problems)
    return list(dict.fromkeys(service_ids))


def _state(profile: ProviderProfile) -> dict[str, object]:
    return {"time_zone": profile.time_zone, "services": selectors.offered_service_ids(profile=profile)}


def _apply(profile: ProviderProfile, *, time_zone: str | None, service_ids: list[int] | None) -> None:
    if time_zone is not None and time_zone != profile.time_zone:
        profile.time_zone = time_zone
        profile.save(update_fields=["time_zone", "updated_at"])
    if service_ids is not None:
        offered = set(selectors.offered_service_ids(profile=profile))
        wanted = set(service_ids)
        profile.products.remove(*(offered - wanted))
        profile.products.add(*(wanted - offered))


def provider_make_check(*, user: User, actor: User) -> None:
    """What `provider_make` would refuse about who may make `user` a provider (an inactive user, a
    role the actor may not give), raised before anything is written: the admin's form asks it."""
    if not user.is_active:
        raise errors.InvalidInput({"user": [_("No active user has this id.")]})
    if not selectors.is_provider(user):
        user_roles_change_check(user=user, changed={SystemRole.PROVIDER}, actor=actor)


@transaction.atomic
def provider_make(
    *,
    user_id: int,
    time_zone: str | None = None,
    service_ids: Sequence[int] | None = None,
    actor: User,
    request: HttpRequest | None = None,
) -> tuple[ProviderProfile, bool]:
    """Make the active user `user_id` a provider, or update the provider they are already: the
    `provider` role (their other roles stay), their profile (made in UTC the first time), and, given,
    their time zone and the services they offer. True with the profile when the role was new.

    Audited as `provider.create` (the role was new) or `provider.update`, with the time zone and
    services before and after, besides the role's own `user.roles_update`.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise errors.InvalidInput({"user": [_("No active user has this id.")]})
    zone = _checked_time_zone(time_zone) if time_zone is not None else None
    services = _checked_services(service_ids) if service_ids is not None else None
    # The profile's lock first, as provider_remove takes it: then the user's, in the role's service.
    profile = provider_profile_for(user, lock=True)
    added = user_role_add(user=user, role_name=SystemRole.PROVIDER, actor=actor, request=request)
    before = _state(profile) if not added else {}
    _apply(profile, time_zone=zone, service_ids=services)
    changes = diff(before, _state(profile))
    if changes:
        action = "provider.create" if added else "provider.update"
        audit(action=action, actor=actor, target=profile, changes=changes, request=request)
    return profile, added


@transaction.atomic
def provider_profile_update(
    *,
    provider: User,
    time_zone: str | None = None,
    service_ids: Sequence[int] | None = None,
    actor: User,
    request: HttpRequest | None = None,
) -> ProviderProfile:
    """Change a provider's time zone and the services they offer (each left as it is when None).
    `service_ids` replaces the services on sale they offer. Bookings already made stay as they are,
    also for a service taken off the list. Audited as `provider.update` when something changed."""
    zone = _checked_time_zone(time_zone) if time_zone is not None else None
    services = _checked_services(service_ids) if service_ids is not None else None
    profile = provider_profile_for(provider, lock=True)
    before = _state(profile)
    _apply(profile, time_zone=zone, service_ids=services)
    changes = diff(before, _state(profile))
    if changes:
        audit(action="provider.update", actor=actor, target=profile, changes=changes, request=request)
    return profile


@transaction.atomic
def provider_remove(*, provider: User, actor: User, request: HttpRequest | None = None) -> None:
    """Take the `provider` role from the user; their other roles stay.

    Refused (409) while they have pending or confirmed bookings that have not ended: those
    customers were promised a provider who can still see, confirm and finish their booking. Cancel
    or move them first. The profile (time zone, working hours, services) is kept, so making them a
    provider again picks it up; their past bookings keep naming them.
    """
    provider_profile_for(provider, lock=True)  # one removal at a time, after a running update
    upcoming = selectors.upcoming_bookings(provider_id=provider.pk, now=timezone.now()).count()
    if upcoming:
        raise errors.Conflict(
            _(
                "This provider has %(n)d pending or confirmed bookings still to come: cancel or move "
                "them first."
            )
            % {"n": upcoming}
        )
    user_role_remove(user=provider, role_name=SystemRole.PROVIDER, actor=actor, request=request)
