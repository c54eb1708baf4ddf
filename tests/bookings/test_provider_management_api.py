"""POST providers/, DELETE providers/{id}/ and providers/me/: staff make a user a provider (who stays a
customer) and stop them being one; a provider changes their own time zone and services. Every change
is audited."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.bookings.models import ProviderProfile
from apps.bookings.services import working_hours_replace
from apps.logs.models import AuditLog
from apps.products.services import product_update
from tests.bookings.factories import EVERY_DAY, days_ahead, local, new_booking, new_user
from tests.products.factories import new_product

pytestmark = pytest.mark.django_db(databases="__all__")

PROVIDERS = "/api/v1/providers/"
ME = "/api/v1/providers/me/"


@pytest.fixture(autouse=True)
def seeded(db):
    call_command("seed_permissions", stdout=StringIO())


def in_roles(*names: str):
    user = new_user()
    user.groups.add(*(Group.objects.get(name=name) for name in names))
    return user


def roles_of(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


@pytest.fixture
def manager():
    return in_roles("manager")


@pytest.fixture
def customer():
    return in_roles("customer")


def off_sale(product):
    product_update(product=product, data={"is_active": False}, actor=None)
    return product


def with_hours(provider):
    working_hours_replace(
        provider=provider,
        intervals=[
            {"weekday": d, "start": local(days_ahead(), s).time(), "end": local(days_ahead(), e).time()}
            for d, s, e in EVERY_DAY
        ],
    )
    return provider


class TestMakingAProvider:
    def test_staff_make_a_customer_a_provider_who_stays_a_customer(self, api, manager, customer):
        haircut, shave = new_product(name="Haircut"), new_product(name="Shave")
        body = {"user": customer.pk, "time_zone": "Europe/London", "services": [shave.pk, haircut.pk]}
        response = api(manager).post(PROVIDERS, body)
        assert response.status_code == 201, response.content
        assert response.json() == {
            "id": customer.pk,
            "name": customer.get_full_name(),
            "time_zone": "Europe/London",
            "services": [
                {"id": haircut.pk, "name": "Haircut", "price": "10.00"},
                {"id": shave.pk, "name": "Shave", "price": "10.00"},
            ],
        }
        assert roles_of(customer) == ["customer", "provider"]
        assert api().get(f"{PROVIDERS}{customer.pk}/").status_code == 200

    def test_the_new_provider_can_be_booked_for_a_service_they_offer(self, api, manager, customer):
        haircut = new_product(name="Haircut")
        provider = in_roles("customer")
        api(manager).post(
            PROVIDERS, {"user": provider.pk, "time_zone": "Europe/London", "services": [haircut.pk]}
        )
        with_hours(provider)
        body = {
            "provider": provider.pk,
            "service": haircut.pk,
            "start": local(days_ahead(3), "10:00").isoformat(),
            "duration_minutes": 60,
        }
        response = api(customer).post("/api/v1/bookings/", body)
        assert response.status_code == 201, response.content
        assert response.json()["service"]["id"] == haircut.pk

    def test_a_new_provider_can_still_book_others(self, api, manager, customer):
        other = with_hours(in_roles("provider"))
        ProviderProfile.objects.filter(pk=other.pk).update(time_zone="Europe/London")
        api(manager).post(PROVIDERS, {"user": customer.pk})
        body = {
            "provider": other.pk,
            "start": local(days_ahead(3), "10:00").isoformat(),
            "duration_minutes": 60,
        }
        assert api(customer).post("/api/v1/bookings/", body).status_code == 201

    def test_making_a_provider_again_is_200_and_updates_their_profile(self, api, manager, customer):
        haircut = new_product()
        assert api(manager).post(PROVIDERS, {"user": customer.pk}).status_code == 201
        response = api(manager).post(PROVIDERS, {"user": customer.pk, "services": [haircut.pk]})
        assert response.status_code == 200
        assert [s["id"] for s in response.json()["services"]] == [haircut.pk]
        assert response.json()["time_zone"] == "UTC"

    def test_products_not_on_sale_or_unknown_are_a_400_naming_each_item(self, api, manager, customer):
        on_sale, retired = new_product(), off_sale(new_product())
        body = {"user": customer.pk, "services": [on_sale.pk, retired.pk, 999_999]}
        response = api(manager).post(PROVIDERS, body)
        assert response.status_code == 400
        assert set(response.json()["field_errors"]) == {"services.1", "services.2"}
        assert roles_of(customer) == ["customer"]
        assert not ProviderProfile.objects.filter(pk=customer.pk).exists()

    @pytest.mark.parametrize("field", ["user", "time_zone"])
    def test_an_unknown_user_or_time_zone_is_a_400_on_its_field(self, api, manager, customer, field):
        body = {
            "user": customer.pk,
            "time_zone": "Europe/London",
            field: {"user": 999_999, "time_zone": "US/Eastern"}[field],
        }
        response = api(manager).post(PROVIDERS, body)
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == [field]

    def test_an_inactive_user_cannot_become_a_provider(self, api, manager):
        gone = new_user(is_active=False)
        response = api(manager).post(PROVIDERS, {"user": gone.pk})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["user"]

    def test_fields_it_does_not_take_are_a_400(self, api, manager, customer):
        response = api(manager).post(PROVIDERS, {"user": customer.pk, "roles": ["admin"]})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["roles"]

    def test_the_rules_of_giving_a_role_apply(self, api, make_user, customer):
        # Holds the permission to manage providers, not the provider role's own permissions.
        clerk = make_user("bookings.manage_providers")
        response = api(clerk).post(PROVIDERS, {"user": customer.pk})
        assert response.status_code == 403
        assert roles_of(customer) == ["customer"]

    def test_it_is_audited_with_the_role_and_the_profile(self, api, manager, customer):
        haircut = new_product()
        api(manager).post(
            PROVIDERS, {"user": customer.pk, "time_zone": "Europe/Paris", "services": [haircut.pk]}
        )
        role_entry = AuditLog.objects.get(action="user.roles_update")
        assert role_entry.changes == {"roles": [["customer"], ["customer", "provider"]]}
        entry = AuditLog.objects.get(action="provider.create")
        assert entry.actor_id == manager.pk
        assert entry.changes == {"time_zone": [None, "Europe/Paris"], "services": [None, [haircut.pk]]}


class TestStoppingBeingAProvider:
    @pytest.fixture
    def provider(self, api, manager):
        provider = in_roles("customer", "provider")
        ProviderProfile.objects.create(user=provider, time_zone="Europe/London")
        return provider

    def test_takes_the_provider_role_and_keeps_the_others(self, api, manager, provider):
        response = api(manager).delete(f"{PROVIDERS}{provider.pk}/")
        assert response.status_code == 204
        assert roles_of(provider) == ["customer"]
        assert api().get(f"{PROVIDERS}{provider.pk}/").status_code == 404
        assert ProviderProfile.objects.filter(pk=provider.pk).exists()  # kept for if they come back
        assert AuditLog.objects.get(action="user.roles_update").changes == {
            "roles": [["customer", "provider"], ["customer"]]
        }

    def test_is_refused_while_bookings_are_still_to_come(self, api, manager, provider, customer):
        new_booking(
            customer=customer, provider=provider, start=local(days_ahead(3), "10:00"), status="confirmed"
        )
        response = api(manager).delete(f"{PROVIDERS}{provider.pk}/")
        assert response.status_code == 409
        assert "1 pending or confirmed" in response.json()["message"]
        assert roles_of(provider) == ["customer", "provider"]

    def test_past_and_cancelled_bookings_do_not_stand_in_the_way(self, api, manager, provider, customer):
        new_booking(
            customer=customer, provider=provider, start=local(days_ahead(-3), "10:00"), status="completed"
        )
        new_booking(
            customer=customer, provider=provider, start=local(days_ahead(3), "10:00"), status="cancelled"
        )
        assert api(manager).delete(f"{PROVIDERS}{provider.pk}/").status_code == 204

    def test_someone_who_is_not_a_provider_is_404(self, api, manager, customer):
        assert api(manager).delete(f"{PROVIDERS}{customer.pk}/").status_code == 404


class TestOwnProfile:
    @pytest.fixture
    def provider(self, api, manager):
        provider = in_roles("customer", "provider")
        ProviderProfile.objects.create(user=provider, time_zone="Europe/London")
        return provider

    def test_a_provider_reads_their_profile(self, api, provider):
        haircut = new_product(name="Haircut")
        provider.provider_profile.products.add(haircut)
        response = api(provider).get(ME)
        assert response.status_code == 200
        assert response.json()["time_zone"] == "Europe/London"
        assert [s["id"] for s in response.json()["services"]] == [haircut.pk]

    def test_a_provider_changes_their_time_zone_and_services(self, api, provider):
        haircut, shave = new_product(name="Haircut"), new_product(name="Shave")
        provider.provider_profile.products.add(haircut)
        response = api(provider).patch(ME, {"time_zone": "America/New_York", "services": [shave.pk]})
        assert response.status_code == 200, response.content
        assert response.json()["time_zone"] == "America/New_York"
        assert [s["id"] for s in response.json()["services"]] == [shave.pk]
        entry = AuditLog.objects.get(action="provider.update")
        assert entry.actor_id == provider.pk
        assert entry.changes == {
            "time_zone": ["Europe/London", "America/New_York"],
            "services": [[haircut.pk], [shave.pk]],
        }

    def test_a_change_to_nothing_is_not_audited(self, api, provider):
        assert api(provider).patch(ME, {"time_zone": "Europe/London"}).status_code == 200
        assert not AuditLog.objects.filter(action="provider.update").exists()

    def test_taking_a_service_off_the_list_keeps_its_bookings(self, api, provider, customer):
        haircut = new_product()
        provider.provider_profile.products.add(haircut)
        booking = new_booking(
            customer=customer, provider=provider, start=local(days_ahead(3), "10:00"), product=haircut
        )
        assert api(provider).patch(ME, {"services": []}).status_code == 200
        booking.refresh_from_db()
        assert (booking.product_id, booking.status) == (haircut.pk, "pending")

    def test_a_product_off_sale_cannot_be_added_and_stays_attached_unseen(self, api, provider):
        retired = new_product()
        provider.provider_profile.products.add(retired)
        off_sale(retired)
        response = api(provider).patch(ME, {"services": [retired.pk]})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["services.0"]
        assert api(provider).patch(ME, {"services": []}).json()["services"] == []
        assert list(provider.provider_profile.products.all()) == [retired]

    def test_an_unknown_time_zone_is_a_400(self, api, provider):
        response = api(provider).patch(ME, {"time_zone": "Mars/Olympus"})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["time_zone"]

    def test_someone_not_in_the_provider_role_gets_403(self, api, customer, make_user):
        holder = make_user("bookings.view_providerprofile", "bookings.change_providerprofile")
        assert api(holder).get(ME).status_code == 403
        assert api(holder).patch(ME, {"time_zone": "Europe/Paris"}).status_code == 403
