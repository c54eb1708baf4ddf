"""Who may call the booking endpoints. The public reads (`GET providers/`, a provider, its
availability) are specified in test_providers_api.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.bookings.factories import days_ahead, local, new_booking, new_customer, new_provider, role


def a_booking(make_user, owner=None):
    """A pending booking three days ahead; `owner` is its customer."""
    return new_booking(
        customer=owner or new_customer(), provider=new_provider(), start=local(days_ahead(3), "10:00")
    )


def a_booking_to_confirm(make_user, owner=None):
    """A pending booking three days ahead; `owner` is its provider."""
    return new_booking(
        customer=new_customer(), provider=owner or new_provider(), start=local(days_ahead(3), "10:00")
    )


def a_started_booking(make_user, owner=None):
    """A confirmed booking that started ten minutes ago; `owner` is its provider."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=10)
    return new_booking(
        customer=new_customer(), provider=owner or new_provider(), start=start, status="confirmed"
    )


def new_booking_payload() -> dict:
    return {
        "provider": new_provider().pk,
        "start": local(days_ahead(3), "10:00").isoformat(),
        "duration_minutes": 60,
    }


class TestBookingEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint("GET", "/api/v1/bookings/", "bookings.view_booking"),
        Endpoint("POST", "/api/v1/bookings/", "bookings.add_booking", new_booking_payload, 201),
        Endpoint(
            "GET",
            "/api/v1/bookings/{pk}/",
            "bookings.view_booking",
            make_object=a_booking,
            owner_field="customer",
        ),
        Endpoint(
            "PATCH",
            "/api/v1/bookings/{pk}/",
            "bookings.change_booking",
            {"notes": "Second floor"},
            make_object=a_booking,
            owner_field="customer",
        ),
        # The transitions need no permission of their own: who may is the services' rule (the
        # customer cancels, the provider confirms and finishes), and someone else's booking is a 404.
        Endpoint(
            "POST",
            "/api/v1/bookings/{pk}/cancel/",
            None,
            {"reason": "Plans changed"},
            make_object=a_booking,
            owner_field="customer",
        ),
        Endpoint(
            "POST",
            "/api/v1/bookings/{pk}/confirm/",
            None,
            make_object=a_booking_to_confirm,
            owner_field="provider",
        ),
        Endpoint(
            "POST",
            "/api/v1/bookings/{pk}/complete/",
            None,
            make_object=a_started_booking,
            owner_field="provider",
        ),
        Endpoint(
            "POST",
            "/api/v1/bookings/{pk}/no-show/",
            None,
            make_object=a_started_booking,
            owner_field="provider",
        ),
    ]


class ProviderEndpointPermissionTests(EndpointPermissionTests):
    """Endpoints for providers only: callers given the permission are in the provider role too."""

    @pytest.fixture
    def make_user(self, make_user):
        def make(*permissions, **fields):
            user = make_user(*permissions, **fields)
            if permissions:
                user.groups.add(role("provider"))
            return user

        return make


class TestWorkingHoursEndpoints(ProviderEndpointPermissionTests):
    """Providers only: callers given the permission here are in the provider role too (without
    the role the permission alone is a 403: see test_schedule_api.py)."""

    endpoints = [
        Endpoint("GET", "/api/v1/providers/me/working-hours/", "bookings.view_workinghours"),
        Endpoint(
            "PUT",
            "/api/v1/providers/me/working-hours/",
            "bookings.change_workinghours",
            {"time_zone": "Europe/London", "intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}]},
        ),
    ]


def a_provider_to_remove(make_user, owner=None):
    provider_role()
    return new_provider()


def new_provider_payload() -> dict:
    provider_role()
    return {"user": new_customer().pk, "time_zone": "Europe/London"}


def provider_role():
    """The provider role as the roles API knows it (a Role), granting nothing here, so any caller
    with `bookings.manage_providers` may hand it out; the role's own rules are specified in
    test_provider_management_api.py."""
    from apps.roles.models import Role

    return Role.objects.get_or_create(group=role("provider"))[0]


class TestProviderManagementEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint("POST", "/api/v1/providers/", "bookings.manage_providers", new_provider_payload, 201),
        Endpoint(
            "DELETE",
            "/api/v1/providers/{pk}/",
            "bookings.manage_providers",
            success=204,
            make_object=a_provider_to_remove,
        ),
    ]


class TestOwnProviderProfileEndpoints(ProviderEndpointPermissionTests):
    """Providers only, as the working hours: callers given the permission are in the role too."""

    endpoints = [
        Endpoint("GET", "/api/v1/providers/me/", "bookings.view_providerprofile"),
        Endpoint(
            "PATCH", "/api/v1/providers/me/", "bookings.change_providerprofile", {"time_zone": "Europe/Paris"}
        ),
    ]


def a_schedule_exception(make_user, owner=None):
    """A day off a week ahead; `owner` is its provider."""
    from apps.bookings.models import ProviderProfile, ScheduleException

    provider = owner or new_provider()
    if owner is not None:
        owner.groups.add(role("provider"))
    profile, _created = ProviderProfile.objects.get_or_create(user=provider)
    day = days_ahead(7)
    return ScheduleException.objects.create(provider=profile, start_date=day, end_date=day, kind="day_off")


def a_day_off() -> dict:
    return {"start_date": days_ahead(7).isoformat(), "kind": "day_off"}


class TestScheduleExceptionEndpoints(ProviderEndpointPermissionTests):
    """Providers only, as for working hours: callers given the permission are in the provider role."""

    endpoints = [
        Endpoint("GET", "/api/v1/providers/me/schedule-exceptions/", "bookings.view_scheduleexception"),
        Endpoint(
            "POST",
            "/api/v1/providers/me/schedule-exceptions/",
            "bookings.add_scheduleexception",
            a_day_off,
            201,
        ),
        Endpoint(
            "GET",
            "/api/v1/providers/me/schedule-exceptions/{pk}/",
            "bookings.view_scheduleexception",
            make_object=a_schedule_exception,
            owner_field="provider",
        ),
        Endpoint(
            "PATCH",
            "/api/v1/providers/me/schedule-exceptions/{pk}/",
            "bookings.change_scheduleexception",
            {"note": "Moving house"},
            make_object=a_schedule_exception,
            owner_field="provider",
        ),
        Endpoint(
            "DELETE",
            "/api/v1/providers/me/schedule-exceptions/{pk}/",
            "bookings.delete_scheduleexception",
            success=204,
            make_object=a_schedule_exception,
            owner_field="provider",
        ),
    ]
