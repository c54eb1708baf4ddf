"""Provider profiles in the admin do what the API does: adding one makes its user a provider (who
keeps their other roles), saving one goes through the profile service, and "Stop being providers"
takes the role unless bookings are still to come."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.bookings.models import ProviderProfile
from apps.logs.models import AuditLog
from apps.products.services import product_update
from tests.bookings.factories import days_ahead, local, new_booking, new_user
from tests.products.factories import new_product

pytestmark = pytest.mark.django_db(databases="__all__")

PROFILES = "/admin/bookings/providerprofile/"


@pytest.fixture(autouse=True)
def seeded(db):
    call_command("seed_permissions", stdout=StringIO())


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def in_roles(*names: str):
    user = new_user()
    user.groups.add(*(Group.objects.get(name=name) for name in names))
    return user


def roles_of(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def profile_form(*, products=(), time_zone="Europe/London", **extra) -> dict:
    return {
        "time_zone": time_zone,
        "products": [product.pk for product in products],
        "working_hours-TOTAL_FORMS": "0",
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
        **extra,
    }


def test_adding_a_profile_makes_the_user_a_provider_who_stays_a_customer(admin_client):
    customer, haircut = in_roles("customer"), new_product()
    assert admin_client.get(f"{PROFILES}add/").status_code == 200
    response = admin_client.post(f"{PROFILES}add/", profile_form(products=[haircut], user=customer.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert roles_of(customer) == ["customer", "provider"]
    profile = ProviderProfile.objects.get(pk=customer.pk)
    assert (profile.time_zone, list(profile.products.all())) == ("Europe/London", [haircut])
    assert AuditLog.objects.filter(action="provider.create").exists()
    assert admin_client.get(PROFILES).status_code == 200


def test_an_inactive_user_is_a_form_error(admin_client):
    gone = new_user(is_active=False)
    response = admin_client.post(f"{PROFILES}add/", profile_form(user=gone.pk))
    assert response.status_code == 200
    assert "No active user has this id." in response.content.decode()
    assert not ProviderProfile.objects.exists()


def test_a_product_off_sale_cannot_be_chosen(admin_client):
    provider = in_roles("provider")
    ProviderProfile.objects.create(user=provider)
    retired = new_product()
    product_update(product=retired, data={"is_active": False}, actor=None)
    response = admin_client.post(f"{PROFILES}{provider.pk}/change/", profile_form(products=[retired]))
    assert response.status_code == 200
    assert not provider.provider_profile.products.exists()


def test_saving_a_profile_goes_through_the_service(admin_client):
    provider = in_roles("provider")
    profile = ProviderProfile.objects.create(user=provider, time_zone="Europe/London")
    haircut, shave = new_product(), new_product()
    profile.products.add(haircut)
    response = admin_client.post(
        f"{PROFILES}{provider.pk}/change/", profile_form(products=[shave], time_zone="Europe/Paris")
    )
    assert response.status_code == 302
    assert AuditLog.objects.get(action="provider.update").changes == {
        "time_zone": ["Europe/London", "Europe/Paris"],
        "services": [[haircut.pk], [shave.pk]],
    }


def test_only_staff_who_manage_providers_can_add_one(client, make_user):
    clerk = make_user("bookings.view_providerprofile", "bookings.add_providerprofile", is_staff=True)
    client.force_login(clerk)
    assert client.get(f"{PROFILES}add/").status_code == 403


def test_stop_being_providers_takes_the_role_unless_bookings_are_to_come(admin_client):
    leaving, busy = in_roles("customer", "provider"), in_roles("provider")
    for user in (leaving, busy):
        ProviderProfile.objects.create(user=user)
    new_booking(customer=in_roles("customer"), provider=busy, start=local(days_ahead(3), "10:00"))
    response = admin_client.post(
        PROFILES, {"action": "stop_being_providers", "_selected_action": [leaving.pk, busy.pk]}, follow=True
    )
    assert roles_of(leaving) == ["customer"]
    assert roles_of(busy) == ["provider"]
    assert "still to come" in response.content.decode()
    assert ProviderProfile.objects.count() == 2
