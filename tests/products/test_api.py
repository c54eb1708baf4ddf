"""categories/ and products/: the public catalog, its staff view, its filters and its writes."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.logs.models import AuditLog
from apps.products.models import Category, Product, StockMovement

pytestmark = pytest.mark.django_db(databases="__all__")

CATEGORIES = "/api/v1/categories/"
PRODUCTS = "/api/v1/products/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def field_errors(response) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    return body["field_errors"]


def deactivate(instance) -> None:
    type(instance).objects.filter(pk=instance.pk).update(is_active=False)


class TestCategories:
    def test_staff_create_a_category_whose_slug_is_made_from_its_name(self, api, staff):
        response = api(staff).post(CATEGORIES, {"name": "Board Games", "description": "Rainy days"})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["name"], body["slug"], body["description"], body["is_active"]) == (
            "Board Games",
            "board-games",
            "Rainy days",
            True,
        )
        entry = AuditLog.objects.get(action="category.create")
        assert (entry.actor_id, entry.target_id) == (staff.pk, str(body["id"]))

    @pytest.mark.parametrize("name", ["Books", "books", "BOOKS"])
    def test_category_names_are_unique_ignoring_case(self, api, staff, category, name):
        assert "name" in field_errors(api(staff).post(CATEGORIES, {"name": name}))
        assert Category.objects.count() == 1

    def test_staff_change_a_category(self, api, staff, category):
        response = api(staff).patch(f"{CATEGORIES}{category.pk}/", {"name": "Novels", "is_active": False})
        assert response.status_code == 200, response.content
        assert (response.json()["name"], response.json()["is_active"]) == ("Novels", False)
        category.refresh_from_db()
        assert (category.name, category.is_active) == ("Novels", False)
        changes = AuditLog.objects.get(action="category.update").changes
        assert changes == {"name": ["Books", "Novels"], "is_active": [True, False]}

    def test_renaming_onto_another_categorys_name_is_refused(self, api, staff, category, make_category):
        games = make_category(name="Games")
        response = api(staff).patch(f"{CATEGORIES}{games.pk}/", {"name": "BOOKS"})
        assert "name" in field_errors(response)
        games.refresh_from_db()
        assert games.name == "Games"

    def test_staff_delete_an_empty_category(self, api, staff, category):
        assert api(staff).delete(f"{CATEGORIES}{category.pk}/").status_code == 204
        assert not Category.objects.exists()
        assert AuditLog.objects.filter(action="category.delete", target_id=str(category.pk)).exists()

    def test_a_category_with_products_is_a_conflict_and_nothing_is_deleted(
        self, api, staff, category, make_product
    ):
        product = make_product(category=category)
        deactivate(product)  # inactive products count too
        response = api(staff).delete(f"{CATEGORIES}{category.pk}/")
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert Category.objects.filter(pk=category.pk).exists()
        assert Product.objects.filter(pk=product.pk).exists()
        assert not AuditLog.objects.filter(action="category.delete").exists()

    def test_the_public_sees_active_categories_only(self, api, staff, category, make_category):
        retired = make_category(name="Retired")
        deactivate(retired)
        assert ids(api().get(CATEGORIES)) == [category.pk]
        assert api().get(f"{CATEGORIES}{retired.pk}/").status_code == 404
        assert api().get(f"{CATEGORIES}{category.pk}/").json()["name"] == "Books"
        assert ids(api(staff).get(CATEGORIES)) == [category.pk, retired.pk]
        assert ids(api(staff).get(CATEGORIES, {"is_active": "false"})) == [retired.pk]

    def test_inactive_categories_need_the_category_change_permission(self, api, make_user, make_category):
        # Changing products says nothing about categories; `is_staff` says nothing at all.
        retired = make_category(name="Retired")
        deactivate(retired)
        product_staff = make_user("products.view_product", "products.change_product", is_staff=True)
        category_staff = make_user("products.view_category", "products.change_category")
        assert api(product_staff).get(f"{CATEGORIES}{retired.pk}/").status_code == 404
        assert api(category_staff).get(f"{CATEGORIES}{retired.pk}/").status_code == 200

    def test_an_unknown_category_is_404(self, api, staff):
        assert api(staff).get(f"{CATEGORIES}999999/").status_code == 404
        assert api(staff).patch(f"{CATEGORIES}999999/", {"name": "X"}).status_code == 404


def product_payload(category, /, **fields) -> dict:
    return {"name": "Chess Set", "sku": "chess-01", "price": "49.90", "category": category.pk, **fields}


class TestProductWrites:
    def test_staff_create_a_product_with_its_opening_stock(self, api, staff, category):
        payload = product_payload(category, description="Walnut", stock=7, low_stock_threshold=2)
        response = api(staff).post(PRODUCTS, payload)
        assert response.status_code == 201, response.content
        body = response.json()
        assert {
            key: body[key] for key in ("name", "slug", "sku", "price", "stock", "low_stock_threshold")
        } == {
            "name": "Chess Set",
            "slug": "chess-set",
            "sku": "CHESS-01",
            "price": "49.90",
            "stock": 7,
            "low_stock_threshold": 2,
        }
        assert body["category"] == {"id": category.pk, "name": "Books", "slug": "books"}
        movement = StockMovement.objects.get(product_id=body["id"])
        assert (movement.delta, movement.reason, movement.resulting_stock, movement.actor_id) == (
            7,
            "initial",
            7,
            staff.pk,
        )
        entry = AuditLog.objects.get(action="product.create")
        assert (entry.actor_id, entry.target_id) == (staff.pk, str(body["id"]))
        assert entry.changes["sku"] == [None, "CHESS-01"]

    def test_a_product_without_opening_stock_has_no_stock_history(self, api, staff, category):
        response = api(staff).post(PRODUCTS, product_payload(category))
        assert response.status_code == 201, response.content
        assert response.json()["stock"] == 0
        assert not StockMovement.objects.exists()

    def test_staff_change_a_product(self, api, staff, make_product):
        product = make_product(name="Chess Set", price=Decimal("10.00"))
        response = api(staff).patch(f"{PRODUCTS}{product.pk}/", {"price": "12.50", "is_active": False})
        assert response.status_code == 200, response.content
        assert (response.json()["price"], response.json()["is_active"]) == ("12.50", False)
        product.refresh_from_db()
        assert (product.price, product.is_active) == (Decimal("12.50"), False)
        changes = AuditLog.objects.get(action="product.update").changes
        assert changes == {"price": ["10.00", "12.50"], "is_active": [True, False]}

    def test_a_product_moves_to_another_category(self, api, staff, make_product, make_category):
        product, games = make_product(), make_category(name="Games")
        response = api(staff).patch(f"{PRODUCTS}{product.pk}/", {"category": games.pk})
        assert response.json()["category"]["slug"] == "games"
        assert AuditLog.objects.get(action="product.update").changes["category"][1] == games.pk

    def test_stock_is_refused_in_a_change_and_nothing_changes(self, api, staff, make_product):
        product = make_product(name="Chess Set", stock=5)
        response = api(staff).patch(f"{PRODUCTS}{product.pk}/", {"stock": 50, "name": "Renamed"})
        assert "stock" in field_errors(response)
        product.refresh_from_db()
        assert (product.stock, product.name) == (5, "Chess Set")
        assert StockMovement.objects.filter(product=product).count() == 1
        assert not AuditLog.objects.filter(action="product.update").exists()

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"price": "-1.00"}, "price"),
            ({"price": "0"}, "price"),
            ({"price": "0.00"}, "price"),
            ({"price": "cheap"}, "price"),
            ({"price": 49.9}, "price"),  # decimals are strings, so no float rounding is involved
            ({"price": "1.001"}, "price"),
            ({"name": ""}, "name"),
            ({"name": 7}, "name"),
            ({"slug": 7}, "slug"),
            ({"slug": "not a slug"}, "slug"),
            ({"sku": "has space"}, "sku"),
            ({"sku": 1234}, "sku"),
            ({"category": 999_999}, "category"),
            ({"category": "books"}, "category"),
            ({"stock": -1}, "stock"),
        ],
    )
    def test_invalid_products_are_field_errors_and_nothing_is_created(
        self, api, staff, category, change, field
    ):
        response = api(staff).post(PRODUCTS, product_payload(category, **change))
        assert field in field_errors(response)
        assert not Product.objects.exists()

    @pytest.mark.parametrize("price", ["99999999.99", "0.01", "5", "12.5"])
    def test_any_price_the_column_holds_is_accepted(self, api, staff, category, price):
        response = api(staff).post(PRODUCTS, product_payload(category, price=price))
        assert response.status_code == 201, response.content
        assert Product.objects.get().price == Decimal(price)

    @pytest.mark.parametrize(
        "price", ["1_000", "\u0669\u0669", " 5", "5 ", "1e3", "+5", ".5", "5.", "100000000.00"]
    )
    def test_a_price_is_plain_ascii_digits_within_the_column(self, api, staff, category, price):
        errors = field_errors(api(staff).post(PRODUCTS, product_payload(category, price=price)))
        assert list(errors) == ["price"]
        assert not Product.objects.exists()

    def test_a_price_sent_as_a_number_says_to_send_a_string(self, api, staff, category):
        errors = field_errors(api(staff).post(PRODUCTS, product_payload(category, price=9.99)))
        assert errors == {"price": ['Send the price as a string, such as "9.99".']}

    @pytest.mark.parametrize("field", ["name", "sku", "price", "category"])
    def test_a_product_needs_its_required_fields(self, api, staff, category, field):
        payload = product_payload(category)
        del payload[field]
        assert field in field_errors(api(staff).post(PRODUCTS, payload))

    @pytest.mark.parametrize("sku", ["CHESS-01", "chess-01", " Chess-01 "])
    def test_skus_are_unique_ignoring_case(self, api, staff, category, make_product, sku):
        make_product(sku="CHESS-01")
        response = api(staff).post(PRODUCTS, product_payload(category, sku=sku))
        assert field_errors(response)["sku"] == ["A product with this SKU already exists."]
        assert Product.objects.count() == 1

    def test_a_change_onto_another_products_sku_is_refused(self, api, staff, make_product):
        make_product(sku="TAKEN-1")
        product = make_product(sku="MINE-1")
        assert "sku" in field_errors(api(staff).patch(f"{PRODUCTS}{product.pk}/", {"sku": "taken-1"}))
        product.refresh_from_db()
        assert product.sku == "MINE-1"

    def test_slugs_stay_unique_when_names_repeat(self, api, staff, category):
        first = api(staff).post(PRODUCTS, product_payload(category, sku="A-1")).json()
        second = api(staff).post(PRODUCTS, product_payload(category, sku="A-2")).json()
        assert (first["slug"], second["slug"]) == ("chess-set", "chess-set-2")

    def test_deleting_a_product_with_stock_history_deactivates_it(self, api, staff, make_product):
        product = make_product(stock=3)
        assert api(staff).delete(f"{PRODUCTS}{product.pk}/").status_code == 204
        product.refresh_from_db()
        assert product.is_active is False
        assert StockMovement.objects.filter(product=product).count() == 1
        staff_view = api(staff).get(f"{PRODUCTS}{product.pk}/")
        assert (staff_view.status_code, staff_view.json()["is_active"]) == (200, False)
        assert api().get(f"{PRODUCTS}{product.pk}/").status_code == 404
        assert AuditLog.objects.filter(action="product.deactivate", target_id=str(product.pk)).exists()
        assert not AuditLog.objects.filter(action="product.delete").exists()

    def test_deleting_a_product_without_history_removes_it(self, api, staff, make_product):
        product = make_product(stock=0)
        assert api(staff).delete(f"{PRODUCTS}{product.pk}/").status_code == 204
        assert not Product.objects.filter(pk=product.pk).exists()
        assert api(staff).get(f"{PRODUCTS}{product.pk}/").status_code == 404
        entry = AuditLog.objects.get(action="product.delete")
        assert (entry.actor_id, entry.target_id, entry.changes["name"][0]) == (
            staff.pk,
            str(product.pk),
            None,
        )

    def test_put_is_not_offered(self, api, staff, make_product):
        product = make_product()
        assert api(staff).put(f"{PRODUCTS}{product.pk}/", {"name": "X"}).status_code == 405


class TestVisibility:
    @pytest.fixture
    def catalog(self, make_product, make_category):
        """An active product, an inactive one, and an active one in an inactive category."""
        on_sale = make_product(name="On sale")
        withdrawn = make_product(name="Withdrawn")
        deactivate(withdrawn)
        hidden_category = make_category(name="Hidden")
        in_hidden_category = make_product(name="In a hidden category", category=hidden_category)
        deactivate(hidden_category)
        return on_sale, withdrawn, in_hidden_category

    @pytest.mark.parametrize("caller", ["anonymous", "customer", "staff_without_change_product"])
    def test_the_public_sees_active_products_in_active_categories_only(
        self, api, make_user, customer, catalog, caller
    ):
        on_sale, withdrawn, in_hidden_category = catalog
        user = {
            "anonymous": None,
            "customer": customer,
            "staff_without_change_product": make_user("products.view_product", is_staff=True),
        }[caller]
        client = api(user)
        assert ids(client.get(PRODUCTS)) == [on_sale.pk]
        assert client.get(f"{PRODUCTS}{on_sale.pk}/").status_code == 200
        assert client.get(f"{PRODUCTS}{withdrawn.pk}/").status_code == 404
        assert client.get(f"{PRODUCTS}{in_hidden_category.pk}/").status_code == 404
        assert client.get(f"{PRODUCTS}999999/").status_code == 404
        assert ids(client.get(PRODUCTS, {"is_active": "false"})) == []

    def test_the_public_does_not_see_the_alert_threshold(self, api, make_product):
        product = make_product(low_stock_threshold=4)
        body = api().get(f"{PRODUCTS}{product.pk}/").json()
        assert "low_stock_threshold" not in body
        assert "low_stock_threshold" not in api().get(PRODUCTS).json()["results"][0]

    def test_staff_see_every_product_and_its_alert_threshold(self, api, staff, catalog):
        on_sale, withdrawn, in_hidden_category = catalog
        client = api(staff)
        assert ids(client.get(PRODUCTS)) == [in_hidden_category.pk, withdrawn.pk, on_sale.pk]
        body = client.get(f"{PRODUCTS}{withdrawn.pk}/").json()
        assert (body["is_active"], body["low_stock_threshold"]) == (False, 0)
        assert "low_stock_threshold" in client.get(PRODUCTS).json()["results"][0]

    def test_a_product_shows_its_category_and_stock(self, api, category, make_product):
        product = make_product(category=category, name="Atlas", sku="atlas-1", price=Decimal("5.50"), stock=2)
        body = api().get(f"{PRODUCTS}{product.pk}/").json()
        assert body == {
            "id": product.pk,
            "name": "Atlas",
            "slug": "atlas",
            "sku": "ATLAS-1",
            "description": "",
            "price": "5.50",
            "stock": 2,
            "in_stock": True,
            "is_active": True,
            "category": {"id": category.pk, "name": "Books", "slug": "books"},
            "image": None,
            "created_at": body["created_at"],
            "updated_at": body["updated_at"],
        }

    def test_a_manager_made_over_the_api_restores_what_they_deactivated(
        self, api, superuser, make_user, make_product
    ):
        # The manager role handed out through users/{id}/roles/: no `is_staff`, which no API sets.
        call_command("seed_permissions", stdout=StringIO())
        manager = make_user()
        response = api(superuser).put(f"/api/v1/users/{manager.pk}/roles/", {"roles": ["manager"]})
        assert response.status_code == 200, response.content
        manager.refresh_from_db()
        assert not manager.is_staff
        lamp = make_product(name="Lamp")
        client = api(manager)
        assert client.patch(f"{PRODUCTS}{lamp.pk}/", {"is_active": False}).status_code == 200
        assert ids(client.get(PRODUCTS, {"is_active": "false"})) == [lamp.pk]
        assert client.get(f"{PRODUCTS}{lamp.pk}/").status_code == 200
        response = client.patch(f"{PRODUCTS}{lamp.pk}/", {"is_active": True})
        assert response.status_code == 200, response.content
        assert ids(api().get(PRODUCTS)) == [lamp.pk]
        retired = lamp.category
        assert client.patch(f"{CATEGORIES}{retired.pk}/", {"is_active": False}).status_code == 200
        assert client.patch(f"{CATEGORIES}{retired.pk}/", {"is_active": True}).status_code == 200

    @pytest.mark.parametrize("path", [f"{PRODUCTS}abc/", f"{PRODUCTS}1234567890123456789012/"])
    def test_malformed_product_ids_are_404(self, api, path):
        assert api().get(path).status_code == 404


class TestFilters:
    @pytest.fixture
    def books(self, category):
        return category

    @pytest.fixture
    def games(self, make_category):
        return make_category(name="Games")

    def test_by_category_id_or_slug(self, api, make_product, books, games):
        novel, chess = make_product(category=books), make_product(category=games)
        assert ids(api().get(PRODUCTS, {"category": books.pk})) == [novel.pk]
        assert ids(api().get(PRODUCTS, {"category": "games"})) == [chess.pk]
        assert ids(api().get(PRODUCTS, {"category": "nothing-here"})) == []

    def test_a_slug_of_digits_still_finds_its_category(self, api, make_product, make_category):
        # "2024" is both a possible id and this category's slug: either match counts.
        year = make_category(name="2024")
        novel = make_product(category=year)
        assert year.slug == "2024"
        assert ids(api().get(PRODUCTS, {"category": "2024"})) == [novel.pk]

    def test_by_slug_finds_the_product_a_front_end_page_names(self, api, make_product):
        novel, _ = make_product(), make_product()
        assert ids(api().get(PRODUCTS, {"slug": novel.slug})) == [novel.pk]
        assert ids(api().get(PRODUCTS, {"slug": "no-such-product"})) == []

    def test_by_price_range(self, api, make_product):
        cheap, middle, dear = (make_product(price=Decimal(price)) for price in ("5.00", "20.00", "80.00"))
        assert ids(api().get(PRODUCTS, {"min_price": "20"})) == [dear.pk, middle.pk]
        assert ids(api().get(PRODUCTS, {"max_price": "20.00"})) == [middle.pk, cheap.pk]
        assert ids(api().get(PRODUCTS, {"min_price": "6", "max_price": "79.99"})) == [middle.pk]

    @pytest.mark.parametrize("price", ["cheap", "-1", "1.001", "+5", "1e2", "1_000", "٢٠", " 5"])
    def test_a_malformed_price_bound_is_a_field_error(self, api, price):
        assert "min_price" in field_errors(api().get(PRODUCTS, {"min_price": price}))

    def test_by_availability(self, api, make_product):
        available, sold_out = make_product(stock=3), make_product(stock=0)
        assert ids(api().get(PRODUCTS, {"in_stock": "true"})) == [available.pk]
        assert ids(api().get(PRODUCTS, {"in_stock": "false"})) == [sold_out.pk]
        assert "in_stock" in field_errors(api().get(PRODUCTS, {"in_stock": "maybe"}))

    def test_staff_filter_by_activity(self, api, staff, make_product):
        active, inactive = make_product(), make_product()
        deactivate(inactive)
        assert ids(api(staff).get(PRODUCTS, {"is_active": "true"})) == [active.pk]
        assert ids(api(staff).get(PRODUCTS, {"is_active": "false"})) == [inactive.pk]

    @pytest.mark.parametrize("term", ["walnut", "WALNUT", "aLnU"])
    def test_search_matches_the_name_ignoring_case(self, api, make_product, term):
        match = make_product(name="Walnut chess set")
        make_product(name="Oak table")
        assert ids(api().get(PRODUCTS, {"search": term})) == [match.pk]

    @pytest.mark.parametrize("term", ["zx-9", "ZX-9"])
    def test_search_matches_the_sku(self, api, make_product, term):
        match = make_product(sku="ZX-900")
        make_product(sku="AB-100")
        assert ids(api().get(PRODUCTS, {"search": term})) == [match.pk]

    def test_search_matches_the_description(self, api, make_product):
        match = make_product(description="Hand-carved from Walnut.")
        make_product(description="Solid oak.")
        assert ids(api().get(PRODUCTS, {"search": "hand-CARVED"})) == [match.pk]

    def test_a_search_term_needs_three_characters(self, api):
        assert "search" in field_errors(api().get(PRODUCTS, {"search": "ab"}))

    @pytest.mark.parametrize("term", ["%%%", "___", "a_b", "- - -", "a-b-c", "...", "%a%b%"])
    def test_a_term_no_index_can_narrow_is_refused(self, api, make_product, term):
        # Each would have the trigram indexes return every product: a full scan for anyone.
        make_product(name="a_b-c ... %%% ___")
        assert list(field_errors(api().get(PRODUCTS, {"search": term}))) == ["search"]

    def test_wildcards_in_a_term_match_themselves(self, api, make_product):
        percent = make_product(name="Sale 100% wool")
        make_product(name="Sale 1000 wool")
        underscore = make_product(name="Wool_mix scarf")
        make_product(name="Wool-mix scarf")
        assert ids(api().get(PRODUCTS, {"search": "100%"})) == [percent.pk]
        assert ids(api().get(PRODUCTS, {"search": "ol_mix"})) == [underscore.pk]


class TestOrdering:
    @pytest.fixture
    def products(self, make_product):
        """Three products, made in this order, whose prices and names sort differently."""
        made = [
            make_product(name="Bravo", price=Decimal("30.00")),
            make_product(name="Alpha", price=Decimal("20.00")),
            make_product(name="Charlie", price=Decimal("10.00")),
        ]
        start = timezone.now() - timedelta(days=1)
        for minutes, product in enumerate(made):  # distinct timestamps, whatever the clock's resolution
            Product.objects.filter(pk=product.pk).update(created_at=start + timedelta(minutes=minutes))
        return dict(zip(("bravo", "alpha", "charlie"), (p.pk for p in made), strict=True))

    @pytest.mark.parametrize(
        ("ordering", "expected"),
        [
            (None, ["charlie", "alpha", "bravo"]),  # newest first
            ("created_at", ["bravo", "alpha", "charlie"]),
            ("price", ["charlie", "alpha", "bravo"]),
            ("-price", ["bravo", "alpha", "charlie"]),
            ("name", ["alpha", "bravo", "charlie"]),
            ("-name", ["charlie", "bravo", "alpha"]),
        ],
    )
    def test_orders_by_the_allowed_fields(self, api, products, ordering, expected):
        params = {"ordering": ordering} if ordering else {}
        assert ids(api().get(PRODUCTS, params)) == [products[name] for name in expected]

    @pytest.mark.parametrize("ordering", ["stock", "-sku", "price,nope"])
    def test_an_unknown_ordering_field_is_a_field_error(self, api, products, ordering):
        assert "ordering" in field_errors(api().get(PRODUCTS, {"ordering": ordering}))


class TestCappedCount:
    @pytest.fixture(autouse=True)
    def cap(self, settings):
        settings.CATALOG_COUNT_CAP = 5

    def test_a_count_past_the_cap_is_the_cap_and_says_so(self, api, make_product, category):
        for _ in range(7):
            make_product(category=category)
        body = api().get(PRODUCTS, {"page_size": 2}).json()
        assert (body["count"], body["count_capped"], len(body["results"])) == (5, True, 2)

    def test_a_count_within_the_cap_is_exact(self, api, make_product, category):
        for _ in range(5):
            make_product(category=category)
        body = api().get(PRODUCTS, {"page_size": 2}).json()
        assert (body["count"], body["count_capped"]) == (5, False)

    def test_the_last_page_holds_the_cap_th_match_and_the_next_is_404(self, api, make_product, category):
        made = [make_product(category=category) for _ in range(7)]
        last = api().get(PRODUCTS, {"page_size": 2, "page": 3})
        assert ids(last) == [made[2].pk]  # newest first: the fifth newest of seven
        assert last.json()["next"] is None
        assert api().get(PRODUCTS, {"page_size": 2, "page": 4}).status_code == 404

    def test_narrower_filters_reach_what_lies_past_the_cap(self, api, make_product, category):
        for _ in range(7):
            make_product(category=category)
        oldest = Product.objects.order_by("created_at", "id").first()
        body = api().get(PRODUCTS, {"search": oldest.sku}).json()
        assert ([item["id"] for item in body["results"]], body["count_capped"]) == ([oldest.pk], False)
