from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from apps.core.api import GenericViewSet, validated
from apps.core.pagination import CursorPagination
from apps.core.query_timeout import statement_timeout
from apps.core.renderers import JSONRenderer, RenderedJSON
from apps.products import cache, selectors, services
from apps.products.filters import CategoryFilter, ProductFilter
from apps.products.images import MAX_PIXELS, ProductImageParser
from apps.products.models import Category, Product
from apps.products.pagination import CatalogPagination
from apps.products.serializers import (
    CategorySerializer,
    CategoryWriteSerializer,
    ProductImageUploadSerializer,
    ProductSerializer,
    ProductWriteSerializer,
    StaffProductSerializer,
    StockAdjustmentResultSerializer,
    StockAdjustSerializer,
    StockMovementSerializer,
)

PUBLIC_READS = (
    "Anyone may read the active catalog, without a token. Whoever holds the change permission "
    "(`products.change_product`, `products.change_category`) also sees inactive entries, so what "
    "they deactivate they can find and restore. Public answers are cached (keyed on the parameters "
    "that change them: others are ignored) and every catalog write invalidates them at once. A "
    "public read that misses the cache may run `CATALOG_STATEMENT_TIMEOUT_MS` in the database at "
    "most; past it the answer is a 503 `query_timeout`."
)
WRITE_BODY = (
    " A field the endpoint does not take (unknown or read-only) is a 400 naming it; booleans are JSON "
    '`true`/`false` only; `price` is a string of ASCII digits such as `"9.99"`, up to `"99999999.99"`.'
)
CATEGORY_IN_USE = OpenApiResponse(description="The category still has products; deactivate it instead.")
NOT_ENOUGH_STOCK = OpenApiResponse(description="The change would take stock below zero (or above the cap).")
IMAGE_TOO_LARGE = OpenApiResponse(
    description="The image is larger than `PRODUCT_IMAGE_MAX_BYTES` (refused before the body is read)."
)
NOT_AN_IMAGE = OpenApiResponse(
    description="The body is not multipart/form-data, or the file is not a whole JPEG, PNG or WebP image."
)


class CachedPublicReadsMixin:
    """`list` and `retrieve` answered from the cache for callers who see the public catalog.

    The cached value is the rendered JSON, so a hit skips the database, the serializer and the
    renderer; it still passes authentication and throttling like any request.
    """

    def sees_inactive(self) -> bool:
        # Asked by the queryset, the serializer and the cache: once per request is enough.
        if not hasattr(self, "_sees_inactive"):
            model = self.permission_model._meta.model_name
            self._sees_inactive = selectors.sees_inactive(self.request.user, model)
        return self._sees_inactive

    # Public reads run under a statement timeout: the schema declares their 503 `query_timeout`.
    timeout_actions = ("list", "retrieve")

    def cache_parameters(self) -> frozenset[str]:
        """The query parameters that change a public answer: a list's filters, ordering and page."""
        if self.action != "list":
            return frozenset()
        names = {*self.filterset_class.base_filters, api_settings.ORDERING_PARAM}
        paginator = self.paginator
        names |= {getattr(paginator, "page_query_param", None)}
        names |= {getattr(paginator, "page_size_query_param", None)}
        return frozenset(name for name in names if name)

    def _cached(self, kind: str, render):
        # Staff answers are never cached; nor is anything but JSON (the browsable API, where it is
        # installed, renders the page around the data itself and must say text/html).
        if self.sees_inactive() or not isinstance(self.request.accepted_renderer, JSONRenderer):
            return render()
        key = cache.response_key(kind, self.request, self.cache_parameters())
        body = cache.cached_body(key)
        if body is None:
            # Anyone may ask, without a token: the database's work for one miss is bounded.
            with statement_timeout(settings.CATALOG_STATEMENT_TIMEOUT_MS):
                response = render()
            if response.status_code != status.HTTP_200_OK:
                return response
            body = JSONRenderer().render(response.data)
            cache.cache_body(key, body)
        return Response(RenderedJSON(body))

    def list(self, request, *args, **kwargs):
        return self._cached(
            "list", lambda: super(CachedPublicReadsMixin, self).list(request, *args, **kwargs)
        )

    def retrieve(self, request, *args, **kwargs):
        return self._cached(
            "detail", lambda: super(CachedPublicReadsMixin, self).retrieve(request, *args, **kwargs)
        )


@extend_schema_view(
    list=extend_schema(summary="List categories", description=PUBLIC_READS),
    retrieve=extend_schema(summary="Read a category", description=PUBLIC_READS),
    create=extend_schema(
        summary="Create a category",
        request=CategoryWriteSerializer,
        responses={201: CategorySerializer},
        description="Needs `products.add_category`.",
    ),
    partial_update=extend_schema(
        summary="Change a category",
        request=CategoryWriteSerializer(partial=True),
        responses={200: CategorySerializer},
        description="Needs `products.change_category`.",
    ),
    destroy=extend_schema(
        summary="Delete a category",
        responses={204: None, 409: CATEGORY_IN_USE},
        description="Needs `products.delete_category`. A category with products stays (409): deactivate it.",
    ),
)
@extend_schema(tags=["catalog"])
class CategoryViewSet(
    CachedPublicReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet,
):
    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    public_actions = ("list", "retrieve")
    permission_model = Category

    def get_queryset(self):
        return selectors.category_list(include_inactive=self.sees_inactive())

    def create(self, request):
        data = validated(CategoryWriteSerializer, request)
        category = services.category_create(**data, actor=request.user, request=request)
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        category = self.get_object()
        data = validated(CategoryWriteSerializer, request, partial=True)
        category = services.category_update(category=category, data=data, actor=request.user, request=request)
        return Response(CategorySerializer(category).data)

    def perform_destroy(self, instance):
        services.category_delete(category=instance, actor=self.request.user, request=self.request)


@extend_schema_view(
    list=extend_schema(summary="List products", description=PUBLIC_READS),
    retrieve=extend_schema(summary="Read a product", description=PUBLIC_READS),
    create=extend_schema(
        summary="Create a product",
        request=ProductWriteSerializer,
        responses={201: StaffProductSerializer},
        description="Needs `products.add_product`. `stock` is the opening stock, the first stock movement."
        + WRITE_BODY,
        examples=[
            OpenApiExample(
                "A product in stock",
                value={
                    "name": "Espresso cup",
                    "sku": "CUP-ESP-01",
                    "description": "Porcelain, 90 ml.",
                    "price": "12.50",
                    "stock": 40,
                    "low_stock_threshold": 5,
                    "category": 3,
                },
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Change a product",
        request=ProductWriteSerializer(partial=True),
        responses={200: StaffProductSerializer},
        description=(
            "Needs `products.change_product`. `stock` is refused here (400): POST products/{id}/stock/."
            + WRITE_BODY
        ),
    ),
    destroy=extend_schema(
        summary="Delete a product",
        responses={204: None},
        description=(
            "Needs `products.delete_product`. A product with stock history (or anything else referring to "
            "it) is deactivated instead of deleted, so no history is lost; either way the answer is 204."
        ),
    ),
)
@extend_schema(tags=["catalog"])
class ProductViewSet(
    CachedPublicReadsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    GenericViewSet,
):
    filterset_class = ProductFilter
    pagination_class = CatalogPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["price", "name", "created_at"]
    ordering = ["-created_at", "-id"]
    public_actions = ("list", "retrieve")
    permission_model = Product
    action_permissions = {
        "stock": ["products.adjust_stock"],
        "stock_movements": ["products.view_stockmovement"],
        "image": ["products.change_product"],
        "image_delete": ["products.change_product"],
    }

    def get_queryset(self):
        return selectors.product_list(include_inactive=self.sees_inactive())

    def get_serializer_class(self):
        if self.sees_inactive():
            return StaffProductSerializer
        return ProductSerializer

    def _detail(self, product, status_code=status.HTTP_200_OK) -> Response:
        product = selectors.product_list(include_inactive=True).get(pk=product.pk)
        return Response(
            StaffProductSerializer(product, context=self.get_serializer_context()).data, status=status_code
        )

    def create(self, request):
        data = validated(ProductWriteSerializer, request)
        product = services.product_create(**data, actor=request.user, request=request)
        return self._detail(product, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        product = self.get_object()
        data = validated(ProductWriteSerializer, request, partial=True)
        product = services.product_update(product=product, data=data, actor=request.user, request=request)
        return self._detail(product)

    def perform_destroy(self, instance):
        services.product_delete(product=instance, actor=self.request.user, request=self.request)

    @extend_schema(
        summary="Adjust a product's stock",
        request=StockAdjustSerializer,
        responses={200: StockAdjustmentResultSerializer, 409: NOT_ENOUGH_STOCK},
        description=(
            "Needs `products.adjust_stock`. Adds `delta` (negative to remove) in one atomic, conditional "
            "update: concurrent adjustments never oversell, and one that does not fit is a 409 that "
            "changes nothing. The sign must fit the reason (`restock` and `return` add, `sale` and `damage` "
            "remove, `correction` either way): otherwise a 400 on `delta`. Falling to or below the "
            "threshold emails the managers, once per crossing."
        ),
    )
    @action(detail=True, methods=["post"])
    def stock(self, request, pk=None):
        product = self.get_object()
        data = validated(StockAdjustSerializer, request)
        movement = services.stock_adjust(product=product, **data, actor=request.user, request=request)
        return Response(
            {"stock": movement.resulting_stock, "movement": StockMovementSerializer(movement).data}
        )

    @extend_schema(
        summary="A product's stock movements",
        description="Needs `products.view_stockmovement`. Newest first.",
        responses={200: StockMovementSerializer(many=True)},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="stock-movements",
        pagination_class=CursorPagination,
        filter_backends=[],
    )
    def stock_movements(self, request, pk=None):
        product = self.get_object()
        movements = selectors.stock_movement_list(product=product)
        page = self.paginate_queryset(movements)
        return self.get_paginated_response(StockMovementSerializer(page, many=True).data)

    @extend_schema(
        summary="Upload a product's image",
        request={"multipart/form-data": ProductImageUploadSerializer},
        responses={200: StaffProductSerializer, 413: IMAGE_TOO_LARGE, 415: NOT_AN_IMAGE},
        description=(
            "Needs `products.change_product`. Multipart with one file field, `image`: JPEG, PNG or WebP, "
            "recognised by decoding it (the file name and declared type do not matter), at most "
            f"`PRODUCT_IMAGE_MAX_BYTES` and {MAX_PIXELS // 1_000_000} megapixels (more is a 400: a "
            "decompression bomb). "
            "Replaces the previous image; answers the product, whose `image` is the new absolute URL."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[ProductImageParser])
    def image(self, request, pk=None):
        product = self.get_object()
        data = validated(ProductImageUploadSerializer, request)
        product = services.product_image_set(
            product=product, image=data["image"], actor=request.user, request=request
        )
        return self._detail(product)

    @extend_schema(
        summary="Remove a product's image",
        request=None,
        responses={204: None},
        description="Needs `products.change_product`. Deletes the file; `image` becomes null. Always 204.",
    )
    @image.mapping.delete
    def image_delete(self, request, pk=None):
        product = self.get_object()
        services.product_image_delete(product=product, actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
