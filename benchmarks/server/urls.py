"""Production's URLs, unchanged, plus the floor under /__floor__/ (benchmark only)."""

from django.urls import path

from benchmarks.server import floor
from config import urls as production

handler400 = production.handler400
handler403 = production.handler403
handler404 = production.handler404
handler500 = production.handler500

urlpatterns = [
    *production.urlpatterns,
    path("__floor__/users/", floor.user_list, name="floor-user-list"),
    path("__floor__/users/<int:pk>/", floor.user_detail, name="floor-user-detail"),
]

if floor.CATALOG:
    urlpatterns += [
        path("__floor__/products/", floor.product_list, name="floor-product-list"),
        path("__floor__/products/<int:pk>/", floor.product_detail, name="floor-product-detail"),
    ]
