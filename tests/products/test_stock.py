"""products/{id}/stock/ and stock-movements/: every change is a movement in the ledger, no change ever
takes stock below zero (not even under concurrent sales), and falling to the alert threshold emails
the managers once per crossing."""

import threading
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction

from apps.core.errors import InvalidInput
from apps.logs.models import AuditLog
from apps.products import services
from apps.products.models import Product, StockMovement
from apps.products.services import StockConflict
from apps.products.services import stock as stock_services

pytestmark = pytest.mark.django_db(databases="__all__")


def stock_url(product) -> str:
    return f"/api/v1/products/{product.pk}/stock/"


def stock_of(product) -> int:
    return Product.objects.values_list("stock", flat=True).get(pk=product.pk)


@pytest.fixture
def clerk(make_user):
    """May adjust stock and nothing else: not staff, so the public catalog is what they reach."""
    return make_user("products.adjust_stock")


class TestAdjustments:
    def test_a_change_answers_the_new_stock_and_records_a_movement(self, api, clerk, make_product):
        product = make_product(stock=10)
        response = api(clerk).post(stock_url(product), {"delta": -3, "reason": "sale", "note": "Order 42"})
        assert response.status_code == 200, response.content
        body = response.json()
        movement = StockMovement.objects.get(product=product, reason="sale")
        assert body["stock"] == 7
        assert body["movement"] == {
            "id": movement.pk,
            "product": product.pk,
            "delta": -3,
            "reason": "sale",
            "note": "Order 42",
            "resulting_stock": 7,
            "actor": clerk.pk,
            "created_at": body["movement"]["created_at"],
        }
        assert stock_of(product) == 7
        entry = AuditLog.objects.get(action="product.stock_adjust")
        assert (entry.actor_id, entry.target_id) == (clerk.pk, str(product.pk))
        assert entry.changes == {"stock": [10, 7], "reason": "sale"}

    def test_a_restock_adds(self, api, clerk, make_product):
        product = make_product(stock=0)
        response = api(clerk).post(stock_url(product), {"delta": 25, "reason": "restock"})
        assert response.json()["stock"] == 25
        assert stock_of(product) == 25

    def test_removing_more_than_is_in_stock_is_a_conflict_that_changes_nothing(
        self, api, clerk, make_product
    ):
        product = make_product(stock=2)
        response = api(clerk).post(stock_url(product), {"delta": -3, "reason": "sale"})
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert "2 in stock" in response.json()["message"]
        assert stock_of(product) == 2
        assert StockMovement.objects.filter(product=product).count() == 1  # the opening stock only
        assert not AuditLog.objects.filter(action="product.stock_adjust").exists()

    def test_removing_exactly_what_is_in_stock_sells_out(self, api, clerk, make_product):
        product = make_product(stock=2)
        assert api(clerk).post(stock_url(product), {"delta": -2, "reason": "damage"}).json()["stock"] == 0

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"delta": 0, "reason": "restock"}, "delta"),
            ({"delta": "5", "reason": "restock"}, "delta"),
            ({"delta": 1.5, "reason": "restock"}, "delta"),
            ({"reason": "restock"}, "delta"),
            ({"delta": 5, "reason": "initial"}, "reason"),  # only a new product has opening stock
            ({"delta": 5, "reason": "gift"}, "reason"),
            ({"delta": 5}, "reason"),
        ],
    )
    def test_invalid_changes_are_field_errors_and_change_nothing(
        self, api, clerk, make_product, payload, field
    ):
        product = make_product(stock=4)
        response = api(clerk).post(stock_url(product), payload)
        assert response.status_code == 400
        assert field in response.json()["field_errors"]
        assert stock_of(product) == 4
        assert StockMovement.objects.filter(product=product).count() == 1

    @pytest.mark.parametrize(
        ("delta", "reason"), [(5, "sale"), (2, "damage"), (-1, "restock"), (-1, "return")]
    )
    def test_a_change_against_its_reasons_direction_is_refused(self, api, clerk, make_product, delta, reason):
        product = make_product(stock=4)
        response = api(clerk).post(stock_url(product), {"delta": delta, "reason": reason})
        assert response.status_code == 400
        assert list(response.json()["field_errors"]) == ["delta"]
        assert stock_of(product) == 4
        assert StockMovement.objects.filter(product=product).count() == 1

    @pytest.mark.parametrize("delta", [3, -3])
    def test_a_correction_goes_either_way(self, api, clerk, make_product, delta):
        product = make_product(stock=4)
        response = api(clerk).post(stock_url(product), {"delta": delta, "reason": "correction"})
        assert response.status_code == 200

    def test_the_service_refuses_a_change_against_its_reason_too(self, make_product):
        product = make_product(stock=4)
        with pytest.raises(InvalidInput):
            services.stock_adjust(product=product, delta=5, reason="sale", actor=None)
        assert stock_of(product) == 4

    @pytest.mark.parametrize(("delta", "reason"), [(5, "sale"), (-1, "restock"), (-1, "initial")])
    def test_the_ledger_cannot_hold_a_change_against_its_reason(self, make_product, delta, reason):
        product = make_product(stock=4)
        with pytest.raises(IntegrityError), transaction.atomic():
            StockMovement.objects.create(product=product, delta=delta, reason=reason, resulting_stock=9)

    def test_an_inactive_product_is_404_to_a_caller_who_cannot_see_it(self, api, clerk, make_product):
        product = make_product(stock=4)
        Product.objects.filter(pk=product.pk).update(is_active=False)
        assert api(clerk).post(stock_url(product), {"delta": 1, "reason": "restock"}).status_code == 404
        assert stock_of(product) == 4

    def test_staff_adjust_the_stock_of_an_inactive_product(self, api, staff, make_product):
        product = make_product(stock=4)
        Product.objects.filter(pk=product.pk).update(is_active=False)
        assert api(staff).post(stock_url(product), {"delta": 1, "reason": "return"}).json()["stock"] == 5


class TestStockMovements:
    def test_lists_a_products_movements_newest_first(self, api, make_user, make_product):
        product = make_product(stock=5)
        services.stock_adjust(product=product, delta=-1, reason="sale", actor=None)
        services.stock_adjust(product=product, delta=3, reason="restock", actor=None)
        make_product(stock=9)  # another product's ledger stays out
        response = api(make_user("products.view_stockmovement")).get(
            f"/api/v1/products/{product.pk}/stock-movements/"
        )
        assert response.status_code == 200, response.content
        rows = [(m["delta"], m["reason"], m["resulting_stock"]) for m in response.json()["results"]]
        assert rows == [(3, "restock", 7), (-1, "sale", 4), (5, "initial", 5)]

    def test_the_ledger_ends_at_the_products_stock(self, make_product):
        product = make_product(stock=5)
        for delta in (-2, 4, -7):
            services.stock_adjust(product=product, delta=delta, reason="correction", actor=None)
        assert StockMovement.objects.filter(product=product).first().resulting_stock == stock_of(product) == 0


class TestLowStockAlerts:
    @pytest.fixture
    def managers(self, make_user):
        call_command("seed_permissions", stdout=StringIO())
        role = Group.objects.get(name="manager")
        active = [make_user(email="mona@example.com"), make_user(email="max@example.com")]
        retired = make_user(email="gone@example.com", is_active=False)
        for manager in (*active, retired):
            manager.groups.add(role)
        make_user(email="staff@example.com", is_staff=True).groups.add(Group.objects.get(name="provider"))
        return active

    @pytest.fixture
    def adjust(self, api, clerk, django_capture_on_commit_callbacks):
        """`adjust(product, delta)` through the API, its on-commit work (the alert) run as on commit."""

        def post(product, delta: int) -> int:
            reason = "restock" if delta > 0 else "sale"
            with django_capture_on_commit_callbacks(execute=True):
                response = api(clerk).post(stock_url(product), {"delta": delta, "reason": reason})
            assert response.status_code == 200, response.content
            return response.json()["stock"]

        return post

    def test_falling_to_the_threshold_emails_each_active_manager_once(self, managers, adjust, make_product):
        product = make_product(name="Walnut chess set", sku="CH-1", stock=10, low_stock_threshold=3)
        assert adjust(product, -7) == 3
        assert sorted(message.to[0] for message in mail.outbox) == ["max@example.com", "mona@example.com"]
        message = mail.outbox[0]
        assert message.subject == "Low stock: Walnut chess set (3 left)"
        assert "CH-1" in message.body
        assert "threshold is 3" in message.body

    def test_falling_below_the_threshold_in_one_step_alerts_too(self, managers, adjust, make_product):
        product = make_product(stock=10, low_stock_threshold=3)
        adjust(product, -9)
        assert len(mail.outbox) == len(managers)

    def test_no_email_while_stock_stays_above_the_threshold(self, managers, adjust, make_product):
        product = make_product(stock=10, low_stock_threshold=3)
        adjust(product, -6)
        adjust(product, 2)
        assert mail.outbox == []

    def test_no_second_email_while_stock_stays_below_the_threshold(self, managers, adjust, make_product):
        product = make_product(stock=10, low_stock_threshold=3)
        adjust(product, -8)
        mail.outbox.clear()
        adjust(product, -1)
        adjust(product, 1)
        assert mail.outbox == []

    def test_a_restock_rearms_the_alert(self, managers, adjust, make_product):
        product = make_product(stock=10, low_stock_threshold=3)
        adjust(product, -8)
        adjust(product, 20)
        assert len(mail.outbox) == len(managers)
        adjust(product, -20)
        assert len(mail.outbox) == 2 * len(managers)

    def test_selling_out_alerts_when_the_threshold_is_zero(self, managers, adjust, make_product):
        product = make_product(stock=2, low_stock_threshold=0)
        adjust(product, -1)
        assert mail.outbox == []
        adjust(product, -1)
        assert len(mail.outbox) == len(managers)

    def test_nobody_is_emailed_when_there_is_no_manager(self, adjust, make_product):
        product = make_product(stock=10, low_stock_threshold=3)
        adjust(product, -9)
        assert mail.outbox == []

    def test_a_refused_change_emails_nobody(
        self, api, clerk, managers, make_product, django_capture_on_commit_callbacks
    ):
        product = make_product(stock=5, low_stock_threshold=3)
        with django_capture_on_commit_callbacks(execute=True):
            response = api(clerk).post(stock_url(product), {"delta": -6, "reason": "sale"})
        assert response.status_code == 409
        assert mail.outbox == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a real row lock needs PostgreSQL")
@pytest.mark.django_db(databases="__all__", transaction=True)
def test_concurrent_sales_never_oversell(make_product, monkeypatch):
    product = make_product(stock=20)
    callers = 50
    # 50 threads, each with a connection to `default` and one to `logs` while it holds the row lock,
    # would exceed PostgreSQL's default 100 connections: the audit entries are counted in memory.
    audited = []
    monkeypatch.setattr(stock_services, "audit", lambda **entry: audited.append(entry["action"]))
    barrier = threading.Barrier(callers)
    outcomes: list[str] = []

    def sell_one():
        try:
            barrier.wait()
            services.stock_adjust(product=product, delta=-1, reason="sale", actor=None)
            outcomes.append("sold")
        except StockConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sell_one) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert (outcomes.count("sold"), outcomes.count("conflict")) == (20, 30)
    assert stock_of(product) == 0
    assert StockMovement.objects.filter(product=product, delta=-1).count() == 20
    assert list(
        StockMovement.objects.filter(product=product).exclude(delta=-1).values_list("reason", flat=True)
    ) == ["initial"]
    assert sorted(
        StockMovement.objects.filter(product=product, delta=-1).values_list("resulting_stock", flat=True)
    ) == list(range(20))
    assert audited == ["product.stock_adjust"] * 20
