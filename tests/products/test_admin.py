"""The catalog in the admin: lists, read-only stock, the "Adjust stock" page, writes through the services."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from apps.logs.models import AuditLog
from apps.products import services
from apps.products.admin import LATEST_MOVEMENTS
from apps.products.models import Category, Product, StockMovement, StockReason

# Admin writes are audited in the logs database.
pytestmark = pytest.mark.django_db(databases="__all__")

CATEGORIES = "/admin/products/category/"
PRODUCTS = "/admin/products/product/"
MOVEMENTS = "/admin/products/stockmovement/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def lamp(make_product, category):
    return make_product(category=category, name="Desk lamp", sku="LAMP-1", description="Warm light", stock=5)


@pytest.fixture
def catalog(make_product, category, lamp):
    """A few products in two categories, one of them inactive."""
    games = Category.objects.create(name="Games", slug="games")
    make_product(category=category, name="Atlas", sku="BOOK-1", stock=3)
    make_product(category=games, name="Chess set", sku="GAME-1", stock=0, is_active=False)
    return Product.objects.all()


def listed(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def change_url(product) -> str:
    return f"{PRODUCTS}{product.pk}/change/"


def adjust_url(product) -> str:
    return f"{PRODUCTS}{product.pk}/adjust-stock/"


def change_form_data(admin_client, product: Product, **overrides) -> dict:
    """What the product change form posts, with some fields changed: the inline's management form
    is read from the page, as a browser would."""
    page = admin_client.get(change_url(product))
    data = {
        "name": product.name,
        "slug": product.slug,
        "sku": product.sku,
        "category": product.category_id,
        "description": product.description,
        "price": str(product.price),
        "low_stock_threshold": product.low_stock_threshold,
        "is_active": "on" if product.is_active else "",
    }
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(
            {f"{formset.prefix}-{name}": value for name, value in formset.management_form.initial.items()}
        )
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def png(name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


# --- Lists ----------------------------------------------------------------------------------------------
def test_the_catalog_lists_render_for_a_superuser(admin_client, catalog):
    assert len(listed(admin_client.get(CATEGORIES))) == 2
    assert len(listed(admin_client.get(PRODUCTS))) == 3
    assert len(listed(admin_client.get(MOVEMENTS))) == 2  # the opening stock of the lamp and the atlas


def test_categories_show_their_product_count(admin_client, catalog):
    counts = {category.name: category.products_total for category in listed(admin_client.get(CATEGORIES))}
    assert counts == {"Books": 2, "Games": 1}


def test_the_category_list_counts_products_in_the_same_query_however_many_categories(
    admin_client, catalog, count_queries
):
    before = count_queries(lambda: admin_client.get(CATEGORIES))
    for n in range(5):
        Category.objects.create(name=f"More {n}", slug=f"more-{n}")

    assert count_queries(lambda: admin_client.get(CATEGORIES)) == before


def test_the_product_list_reads_the_categories_in_the_same_query(
    admin_client, catalog, count_queries, category
):
    before = count_queries(lambda: admin_client.get(PRODUCTS))
    for n in range(5):
        services.product_create(
            actor=None,
            name=f"More {n}",
            sku=f"MORE-{n}",
            price="1.00",
            category=Category.objects.create(name=f"Other {n}", slug=f"other-{n}"),
        )

    # The category filter lists every category: one query, whatever their number.
    assert count_queries(lambda: admin_client.get(PRODUCTS)) == before


@pytest.mark.parametrize(
    ("term", "expected"), [("lamp", {"LAMP-1"}), ("game-1", {"GAME-1"}), ("warm", {"LAMP-1"})]
)
def test_products_are_found_by_name_sku_or_description(admin_client, catalog, term, expected):
    assert {product.sku for product in listed(admin_client.get(PRODUCTS, {"q": term}))} == expected


def test_products_are_filtered_by_category_and_active(admin_client, catalog, category):
    in_books = listed(admin_client.get(PRODUCTS, {"category__id__exact": category.pk}))
    inactive = listed(admin_client.get(PRODUCTS, {"is_active__exact": 0}))

    assert {product.sku for product in in_books} == {"LAMP-1", "BOOK-1"}
    assert {product.sku for product in inactive} == {"GAME-1"}


def test_categories_are_found_by_name_or_slug(admin_client, catalog):
    assert [category.name for category in listed(admin_client.get(CATEGORIES, {"q": "gam"}))] == ["Games"]


def test_the_list_shows_a_thumbnail_of_the_image(admin_client, lamp):
    services.product_image_set(product=lamp, image=png(), actor=None)

    page = admin_client.get(PRODUCTS).content.decode()

    assert '<img src="/media/products/' in page


# --- Categories -----------------------------------------------------------------------------------------
def test_a_category_added_in_the_admin_is_audited(admin_client):
    response = admin_client.post(
        f"{CATEGORIES}add/", {"name": "Garden", "slug": "garden", "description": "", "is_active": "on"}
    )

    assert response.status_code == 302, response.content
    category = Category.objects.get(slug="garden")
    assert AuditLog.objects.filter(action="category.create", target_id=str(category.pk)).exists()


def test_a_category_name_that_differs_only_in_case_is_a_form_error(admin_client, category):
    response = admin_client.post(f"{CATEGORIES}add/", {"name": "BOOKS", "slug": "books-2", "is_active": "on"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name": ["A category with that name already exists."]
    }


def test_a_category_with_products_cannot_be_deleted_and_the_page_says_why(admin_client, category, lamp):
    confirmation = admin_client.get(f"{CATEGORIES}{category.pk}/delete/")
    refused = admin_client.post(f"{CATEGORIES}{category.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        CATEGORIES, {"action": "delete_selected", "_selected_action": [category.pk], "post": "yes"}
    )

    for response in (confirmation, refused, bulk):
        assert response.status_code == 200
        assert "would require deleting the following protected related objects" in response.content.decode()
        assert "Desk lamp" in response.content.decode()
    assert Category.objects.filter(pk=category.pk).exists()


def test_an_empty_category_is_deleted_through_the_service(admin_client):
    empty = Category.objects.create(name="Empty", slug="empty")

    response = admin_client.post(f"{CATEGORIES}{empty.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Category.objects.filter(pk=empty.pk).exists()
    assert AuditLog.objects.filter(action="category.delete", target_id=str(empty.pk)).exists()


def test_a_category_changed_in_the_admin_is_audited_with_what_changed(admin_client, category):
    response = admin_client.post(
        f"{CATEGORIES}{category.pk}/change/", {"name": "Books", "slug": "books", "description": "Paper"}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    category.refresh_from_db()
    assert (category.description, category.is_active) == ("Paper", False)
    update = AuditLog.objects.get(action="category.update", target_id=str(category.pk))
    assert update.changes == {"description": ["", "Paper"], "is_active": [True, False]}


# --- Products -------------------------------------------------------------------------------------------
def test_stock_is_shown_but_not_editable_on_the_change_form(admin_client, lamp):
    page = admin_client.get(change_url(lamp))

    assert page.status_code == 200
    assert "stock" not in page.context["adminform"].form.fields
    assert 'name="stock"' not in page.content.decode()


def test_posting_a_changed_stock_changes_everything_but_the_stock(admin_client, lamp):
    data = change_form_data(admin_client, lamp, name="Desk lamp, brass", stock=999)

    response = admin_client.post(change_url(lamp), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    lamp.refresh_from_db()
    assert (lamp.name, lamp.stock) == ("Desk lamp, brass", 5)
    assert lamp.stock_movements.count() == 1  # the opening stock only
    update = AuditLog.objects.get(action="product.update", target_id=str(lamp.pk))
    assert update.changes == {"name": ["Desk lamp", "Desk lamp, brass"]}


def test_a_sku_is_stored_upper_case_and_checked_against_others_that_way(admin_client, lamp, make_product):
    other = make_product(sku="LAMP-2")

    clash = admin_client.post(change_url(other), change_form_data(admin_client, other, sku="lamp-1"))
    renamed = admin_client.post(change_url(other), change_form_data(admin_client, other, sku="lamp-3"))

    assert clash.context["adminform"].form.errors == {"sku": ["Product with this SKU already exists."]}
    assert renamed.status_code == 302
    other.refresh_from_db()
    assert other.sku == "LAMP-3"


def test_a_product_added_in_the_admin_gets_its_opening_stock_as_a_movement(admin_client, category):
    response = admin_client.post(
        f"{PRODUCTS}add/",
        {
            "name": "Globe",
            "slug": "globe",
            "sku": "globe-1",
            "category": category.pk,
            "price": "25.00",
            "low_stock_threshold": 2,
            "is_active": "on",
            "opening_stock": 7,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    globe = Product.objects.get(slug="globe")
    assert (globe.sku, globe.stock) == ("GLOBE-1", 7)
    movement = globe.stock_movements.get()
    assert (movement.delta, movement.reason) == (7, StockReason.INITIAL)
    assert AuditLog.objects.filter(action="product.create", target_id=str(globe.pk)).exists()


def test_an_image_uploaded_in_the_admin_is_judged_by_its_content(admin_client, lamp):
    response = admin_client.post(
        change_url(lamp), {**change_form_data(admin_client, lamp), "image": png("notes.txt", "text/plain")}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lamp.refresh_from_db()
    assert lamp.image.name.startswith("products/") and lamp.image.name.endswith(".png")
    assert AuditLog.objects.filter(action="product.image_set", target_id=str(lamp.pk)).exists()
    assert '<img src="/media/products/' in admin_client.get(change_url(lamp)).content.decode()


def test_clearing_the_image_in_the_admin_deletes_its_file(
    admin_client, lamp, django_capture_on_commit_callbacks
):
    lamp = services.product_image_set(product=lamp, image=png(), actor=None)
    name = lamp.image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            change_url(lamp), change_form_data(admin_client, lamp, **{"image-clear": "on"})
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lamp.refresh_from_db()
    assert not lamp.image
    assert not lamp.image.storage.exists(name)


def test_a_script_named_png_is_a_form_error_in_the_admin(admin_client, lamp, media_root):
    script = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", content_type="image/png")

    response = admin_client.post(change_url(lamp), {**change_form_data(admin_client, lamp), "image": script})

    assert response.status_code == 200
    assert "image" in response.context["adminform"].form.errors
    assert not list(media_root.rglob("*.*"))


def test_the_change_page_lists_the_latest_movements_newest_first(admin_client, lamp):
    for _ in range(LATEST_MOVEMENTS + 5):
        services.stock_adjust(product=lamp, delta=1, reason=StockReason.RESTOCK, actor=None)

    page = admin_client.get(change_url(lamp))

    (inline,) = page.context["inline_admin_formsets"]
    shown = [form.instance.resulting_stock for form in inline.formset.forms]
    assert shown == list(range(5 + LATEST_MOVEMENTS + 5, 5 + 5, -1))
    assert f"{MOVEMENTS}?product={lamp.pk}" in page.content.decode()


def test_a_product_without_history_is_deleted_through_the_service(admin_client, make_product):
    unstocked = make_product()  # no opening stock: nothing refers to it

    response = admin_client.post(f"{PRODUCTS}{unstocked.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Product.objects.filter(pk=unstocked.pk).exists()
    assert AuditLog.objects.filter(action="product.delete", target_id=str(unstocked.pk)).exists()


def test_a_product_with_stock_history_cannot_be_deleted_in_the_admin(admin_client, lamp):
    response = admin_client.post(f"{PRODUCTS}{lamp.pk}/delete/", {"post": "yes"})

    # Stock movements can be deleted by nobody, so the page names them as what stands in the way.
    assert response.status_code == 200
    page = response.content.decode()
    assert "Cannot delete product" in page and "stock movement" in page
    assert Product.objects.filter(pk=lamp.pk).exists()


# --- Adjust stock ---------------------------------------------------------------------------------------
def test_the_change_page_links_to_adjust_stock_for_those_who_may(admin_client, lamp, make_user):
    clerk = Client()
    clerk.force_login(make_user("products.view_product", "products.change_product", is_staff=True))

    assert adjust_url(lamp) in admin_client.get(change_url(lamp)).content.decode()
    assert adjust_url(lamp) not in clerk.get(change_url(lamp)).content.decode()


def test_adjusting_stock_goes_through_the_service_and_records_a_movement(admin_client, lamp, superuser):
    assert admin_client.get(adjust_url(lamp)).status_code == 200

    response = admin_client.post(adjust_url(lamp), {"delta": -3, "reason": "sale", "note": "Counter sale"})

    assert response.status_code == 302
    assert response["Location"] == change_url(lamp)
    lamp.refresh_from_db()
    assert lamp.stock == 2
    movement = lamp.stock_movements.first()
    assert (movement.delta, movement.reason, movement.note, movement.resulting_stock, movement.actor_id) == (
        -3,
        "sale",
        "Counter sale",
        2,
        superuser.pk,
    )
    assert AuditLog.objects.filter(action="product.stock_adjust", target_id=str(lamp.pk)).exists()


def test_taking_stock_below_zero_is_a_form_error_and_changes_nothing(admin_client, lamp):
    response = admin_client.post(adjust_url(lamp), {"delta": -6, "reason": "sale"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"delta": ["Not enough stock: 5 in stock, cannot remove 6."]}
    lamp.refresh_from_db()
    assert lamp.stock == 5
    assert lamp.stock_movements.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"delta": 0, "reason": "sale"}, "delta"),
        ({"delta": 1, "reason": "initial"}, "reason"),
        ({"delta": 1, "reason": "sale"}, "delta"),
    ],
)
def test_a_zero_change_the_initial_reason_or_a_wrong_sign_is_a_form_error(admin_client, lamp, data, field):
    response = admin_client.post(adjust_url(lamp), data)

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {field}


def test_staff_without_adjust_stock_get_403_on_the_adjust_page(client, make_user, lamp):
    clerk = make_user("products.view_product", "products.change_product", is_staff=True)
    client.force_login(clerk)

    assert client.get(adjust_url(lamp)).status_code == 403
    assert client.post(adjust_url(lamp), {"delta": 1, "reason": "restock"}).status_code == 403
    lamp.refresh_from_db()
    assert lamp.stock == 5


def test_staff_with_adjust_stock_alone_may_adjust(client, make_user, lamp):
    clerk = make_user("products.view_product", "products.adjust_stock", is_staff=True)
    client.force_login(clerk)

    assert client.post(adjust_url(lamp), {"delta": 4, "reason": "restock"}).status_code == 302
    lamp.refresh_from_db()
    assert lamp.stock == 9


# --- Stock movements --------------------------------------------------------------------------------------
def test_stock_movements_are_read_only(admin_client, lamp):
    movement = lamp.stock_movements.get()

    assert admin_client.get(f"{MOVEMENTS}add/").status_code == 403
    assert admin_client.get(f"{MOVEMENTS}{movement.pk}/delete/").status_code == 403
    page = admin_client.get(f"{MOVEMENTS}{movement.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    admin_client.post(f"{MOVEMENTS}{movement.pk}/change/", {"delta": 500, "reason": "restock"})
    movement.refresh_from_db()
    assert movement.delta == 5


def test_stock_movements_are_filtered_by_reason_and_found_by_sku(admin_client, catalog, lamp):
    services.stock_adjust(product=lamp, delta=-1, reason=StockReason.SALE, actor=None)

    sales = listed(admin_client.get(MOVEMENTS, {"reason__exact": "sale"}))
    of_the_lamp = listed(admin_client.get(MOVEMENTS, {"q": "lamp-1"}))
    of_one_product = listed(admin_client.get(MOVEMENTS, {"product": lamp.pk}))

    assert [(movement.product_id, movement.delta) for movement in sales] == [(lamp.pk, -1)]
    assert {movement.product_id for movement in of_the_lamp} == {lamp.pk}
    assert len(of_the_lamp) == 2
    assert of_one_product == of_the_lamp
    assert StockMovement.objects.count() == 3
