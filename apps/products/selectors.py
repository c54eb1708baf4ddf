"""Catalog reads: who sees which products and categories, and how a search is written."""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.products.models import Category, Product, StockMovement


def sees_inactive(user: User | AnonymousUser | None, model_name: str) -> bool:
    """Whoever may change a `model_name` ("product", "category") also sees the inactive ones;
    everyone else, the public catalog.

    The permission alone decides, as everywhere in the API: `is_staff` only opens the admin site,
    and no API sets it, so a manager given the role over the API must be able to find the product
    they deactivated in order to restore it. `view_*` cannot be the rule: every customer holds it.
    """
    return bool(user is not None and user.is_authenticated and user.has_perm(f"products.change_{model_name}"))


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    categories = Category.objects.order_by("name", "id")
    return categories if include_inactive else categories.filter(is_active=True)


def products_on_sale(products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """The products on sale: a product is, while it and its category are both active, so
    deactivating a category takes its products off sale. The one statement of the rule: the
    public catalog and what a booking may be for both ask here."""
    products = Product.objects.all() if products is None else products
    return products.filter(is_active=True, category__is_active=True)


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their category in the same query; the public sees those on sale."""
    products = Product.objects.select_related("category").order_by("-created_at", "-id")
    return products if include_inactive else products_on_sale(products)


def product_search(products: QuerySet[Product], term: str) -> QuerySet[Product]:
    """Case-insensitive substring match over name, SKU and description.

    On PostgreSQL each `icontains` is `UPPER(col::text) LIKE UPPER(%term%)`, the expression the
    trigram indexes of migration 0002 are built on, so the search is a bitmap index scan.
    """
    return products.filter(Q(name__icontains=term) | Q(sku__icontains=term) | Q(description__icontains=term))


def stock_movement_list(*, product: Product) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(product=product).order_by("-created_at", "-id")
