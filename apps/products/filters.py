import re

import django_filters
from django import forms
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.filters import DecimalTextField, boolean_filter
from apps.products.models import MAX_PRICE, Category, Product
from apps.products.selectors import product_search

SEARCH_MIN_LENGTH = 3  # shorter terms have no trigram to look up: every row would be read
# pg_trgm looks a pattern up by the trigrams of its words (runs of letters and digits). Punctuation,
# spaces, `%` and `_` give none (`%%%`, `___`), and one-letter words give only the blank-padded
# trigram of every word starting with that letter (`a_b`): the index then returns (nearly) every
# row. Three letters or digits, two of them side by side ("zx-9", "oak"), always give a selective one.
_ALPHANUMERIC = re.compile(r"[^\W_]")
_PAIR = re.compile(r"[^\W_]{2}")


def validate_searchable(term: str) -> None:
    """A search term the trigram indexes can narrow, or a 400 keyed `search`.

    Django already escapes `%` and `_` (they match themselves, never any text), so the risk is not a
    wildcard but a term the indexes cannot use: PostgreSQL then reads every product, for anyone
    who asks, without a token.
    """
    if len(_ALPHANUMERIC.findall(term)) < SEARCH_MIN_LENGTH or not _PAIR.search(term):
        raise forms.ValidationError(
            _("Search for at least %(count)d letters or digits, two of them side by side (such as “zx-9”).")
            % {"count": SEARCH_MIN_LENGTH},
            code="unsearchable",
        )


class PriceField(DecimalTextField):
    def __init__(self, *args, **kwargs):
        kwargs.update(max_digits=10, decimal_places=2, max_value=MAX_PRICE, validators=[MinValueValidator(0)])
        super().__init__(*args, **kwargs)


class PriceFilter(django_filters.NumberFilter):
    field_class = PriceField


class CategoryFilter(django_filters.FilterSet):
    is_active = boolean_filter(
        help_text="With `products.change_category` only: the public sees active categories alone."
    )

    class Meta:
        model = Category
        fields = ["is_active"]


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        method="filter_category", max_length=120, help_text="A category's id or slug."
    )
    # Messages link to the front end's /products/{slug} page; this is how that page finds its product.
    slug = django_filters.CharFilter(
        max_length=220, help_text="A product's slug (exact): the product a `/products/{slug}` page shows."
    )
    min_price = PriceFilter(field_name="price", lookup_expr="gte", help_text="Price at least this.")
    max_price = PriceFilter(field_name="price", lookup_expr="lte", help_text="Price at most this.")
    in_stock = boolean_filter(
        method="filter_in_stock", help_text="`true`: stock above zero; `false`: sold out."
    )
    is_active = boolean_filter(
        help_text="With `products.change_product` only: the public catalog holds active products alone."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        min_length=SEARCH_MIN_LENGTH,
        max_length=100,
        validators=[validate_searchable],
        help_text=(
            f"Case-insensitive substring of the name, SKU or description, with at least {SEARCH_MIN_LENGTH} "
            "letters or digits, two of them side by side (`zx-9`, `oak`); `%%%`, `___` or `a_b` are a 400. "
            "`%` and `_` match themselves, never any text."
        ),
    )

    class Meta:
        model = Product
        fields = ["category", "min_price", "max_price", "in_stock", "is_active", "search"]

    def filter_category(self, queryset, name, value: str):
        # A slug may be all digits ("2024"), so a number matches an id or a slug. The ids are looked
        # up first (one primary-key or slug read) and given to the product query as constants: an OR
        # across the join, or a subquery, keeps the planner off the per-category indexes and has it
        # read the whole newest-first index instead (tens of ms at a million products).
        matches = Q(slug=value)
        if value.isascii() and value.isdigit() and len(value) <= 18:
            matches |= Q(pk=int(value))
        ids = list(Category.objects.filter(matches).values_list("pk", flat=True)[:2])
        return queryset.filter(category_id__in=ids)

    def filter_in_stock(self, queryset, name, value: bool):
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock=0)

    def filter_search(self, queryset, name, value: str):
        return product_search(queryset, value)
