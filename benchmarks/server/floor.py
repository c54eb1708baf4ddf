"""The floor: the user and product lists and details as plain Django function views.

No DRF, no authentication, no permission check, no throttle, no filter backends, no cache: the
same rows as GET /api/v1/users/ (page 1 or any page, 20 rows and the count) and
GET /api/v1/users/{id}/, and as the public GET /api/v1/products/ (the same filters, order and
capped count) and GET /api/v1/products/{id}/, read with .values() and answered with
JsonResponse. They pass through the same middleware, the same gunicorn and the same database as
the API, so the API's figure divided by the floor's is what the API's own machinery costs on
top of what any Django view of this data must pay (and, for the cached catalog, what its cache
saves).
"""

from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.conf import settings
from django.db.models import CharField, ExpressionWrapper, F
from django.http import JsonResponse

from apps.accounts.models import User
from apps.accounts.serializers import UserSerializer

# Exactly the fields the API answers with, whether UserSerializer is a ModelSerializer (the base
# commit) or a plain Serializer.
FIELDS = tuple(UserSerializer().fields)
PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


def _rows(users):
    """`.values()` of the answer's fields, the phone number as the text it is stored as: a
    PhoneNumber per row (what django-phonenumber-field's `.values()` hands out) would cost a
    libphonenumber parse, which the API does not pay either, and is no JSON."""
    as_text = {"phone_text": ExpressionWrapper(F("phone"), output_field=CharField())}
    rows = users.values(*(name for name in FIELDS if name != "phone"), **as_text)
    for row in rows:
        row["phone"] = row.pop("phone_text")
        yield row


def _page_url(request, page: int) -> str:
    return request.build_absolute_uri(f"{request.path}?page={page}")


def user_list(request):
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 0
    if page < 1:
        return JsonResponse({"detail": "Invalid page."}, status=400)
    users = User.objects.order_by("id")
    count = users.count()
    offset = (page - 1) * PAGE_SIZE
    if offset >= count and page != 1:
        return JsonResponse({"detail": "Invalid page."}, status=404)
    return JsonResponse(
        {
            "count": count,
            "next": _page_url(request, page + 1) if offset + PAGE_SIZE < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "results": list(_rows(users[offset : offset + PAGE_SIZE])),
        }
    )


def user_detail(request, pk: int):
    rows = list(_rows(User.objects.filter(pk=pk)[:1]))
    if not rows:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(rows[0])


# --- The catalog ----------------------------------------------------------------------------------------
# A checkout from before the catalog (the requests scenario with --repo) has no apps.products: its
# floor serves the users alone.
CATALOG = apps.is_installed("apps.products")

if CATALOG:
    from apps.products import selectors as product_selectors
    from apps.products.filters import SEARCH_MIN_LENGTH

    # ProductSerializer's fields: the columns, then `in_stock` and the nested category built below.
    PRODUCT_COLUMNS = (
        "id", "name", "slug", "sku", "description", "price", "stock", "is_active", "image",
        "created_at", "updated_at", "category_id", "category__name", "category__slug",
    )  # fmt: skip


def _product(row: dict) -> dict:
    row["in_stock"] = row["stock"] > 0
    row["category"] = {
        "id": row.pop("category_id"),
        "name": row.pop("category__name"),
        "slug": row.pop("category__slug"),
    }
    # The API answers an absolute URL from the storage; the benchmark's products have no image.
    row["image"] = settings.MEDIA_URL + row["image"] if row["image"] else None
    return row


def _price(value: str) -> Decimal:
    price = Decimal(value)
    if not price.is_finite() or price < 0:
        raise InvalidOperation(value)
    return price


def product_list(request):
    """The public list: active products of active categories, newest first, with the API's
    filters (category by id or slug, price range, search) and its count capped at
    CATALOG_COUNT_CAP."""
    products = product_selectors.product_list()
    query = request.GET
    try:
        page = int(query.get("page", "1"))
        if category := query.get("category"):
            key = "category_id" if category.isascii() and category.isdigit() else "category__slug"
            products = products.filter(**{key: category})
        if "min_price" in query:
            products = products.filter(price__gte=_price(query["min_price"]))
        if "max_price" in query:
            products = products.filter(price__lte=_price(query["max_price"]))
    except (ValueError, InvalidOperation):
        return JsonResponse({"detail": "Invalid parameter."}, status=400)
    if search := query.get("search"):
        if len(search) < SEARCH_MIN_LENGTH:
            return JsonResponse({"detail": "Search term too short."}, status=400)
        products = product_selectors.product_search(products, search)
    if page < 1:
        return JsonResponse({"detail": "Invalid page."}, status=400)
    cap = settings.CATALOG_COUNT_CAP
    matches = products.order_by()[: cap + 1].count()  # as the API counts: no ordering to obey
    count = min(matches, cap)
    offset = (page - 1) * PAGE_SIZE
    if offset >= count and page != 1:
        return JsonResponse({"detail": "Invalid page."}, status=404)

    def link(number: int) -> str:
        params = query.copy()
        params["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

    return JsonResponse(
        {
            "count": count,
            "next": link(page + 1) if offset + PAGE_SIZE < count else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [
                _product(row) for row in products.values(*PRODUCT_COLUMNS)[offset : offset + PAGE_SIZE]
            ],
            "count_capped": matches > cap,
        }
    )


def product_detail(request, pk: int):
    rows = list(product_selectors.product_list().filter(pk=pk).values(*PRODUCT_COLUMNS)[:1])
    if not rows:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(_product(rows[0]))
