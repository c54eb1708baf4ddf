"""Production's URLs, plus the floor under /__floor__/ (benchmark only), and products/ keyed on `_`.

The catalog cache keys an answer on the query parameters that change it only, so a cold request
can no longer make its URL new with a parameter nothing reads. The products/ served here are
production's ViewSet, unchanged but for one more name in the key: the benchmark's `_`, which the
catalog scenario sets to a new value on every cold request, so that each one misses as a request
for a page nobody asked for yet does.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.products.views import ProductViewSet
from benchmarks.server import floor
from config import urls as production

COLD_PARAMETER = "_"


class ColdProductViewSet(ProductViewSet):
    def cache_parameters(self) -> frozenset[str]:
        return super().cache_parameters() | {COLD_PARAMETER}


_products = SimpleRouter()
_products.register("api/v1/products", ColdProductViewSet, basename="bench-product")

handler400 = production.handler400
handler403 = production.handler403
handler404 = production.handler404
handler500 = production.handler500

urlpatterns = [
    *_products.urls,  # first: it answers products/ in production's place
    *production.urlpatterns,
    path("__floor__/users/", floor.user_list, name="floor-user-list"),
    path("__floor__/users/<int:pk>/", floor.user_detail, name="floor-user-detail"),
]

if floor.CATALOG:
    urlpatterns += [
        path("__floor__/products/", floor.product_list, name="floor-product-list"),
        path("__floor__/products/<int:pk>/", floor.product_detail, name="floor-product-detail"),
    ]
