"""Catalog reads: who sees which products and categories, and how a search is written."""

from django.db.models import Q, QuerySet

from apps.products.models import Category, Product, StockMovement


def sees_inactive(user, permission: str) -> bool:
    """Staff holding the view `permission` also see inactive entries; everyone else, the public
    catalog."""
    return bool(user is not None and user.is_authenticated and user.is_staff and user.has_perm(permission))


def category_list(*, include_inactive: bool = False) -> QuerySet[Category]:
    categories = Category.objects.order_by("name", "id")
    return categories if include_inactive else categories.filter(is_active=True)


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their category in the same query. The public sees a product only while it
    and its category are both active: deactivating a category takes its products off sale."""
    products = Product.objects.select_related("category").order_by("-created_at", "-id")
    if include_inactive:
        return products
    return products.filter(is_active=True, category__is_active=True)


def product_search(products: QuerySet[Product], term: str) -> QuerySet[Product]:
    """Case-insensitive substring match over name, SKU and description.

    On PostgreSQL each `icontains` is `UPPER(col::text) LIKE UPPER(%term%)`, the expression the
    trigram indexes of migration 0002 are built on, so the search is a bitmap index scan.
    """
    return products.filter(Q(name__icontains=term) | Q(sku__icontains=term) | Q(description__icontains=term))


def stock_movement_list(*, product: Product) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(product=product).order_by("-created_at", "-id")
