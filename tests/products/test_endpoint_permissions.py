"""Who may write to the catalog. Its reads (`GET categories/`, `GET products/` and their details)
are public and specified in test_api.py."""

from itertools import count

from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.products.factories import new_category, new_product

_numbers = count(1)


def a_category(make_user, **kwargs):
    return new_category()


def a_product(make_user, **kwargs):
    return new_product(stock=10)


def new_product_payload() -> dict:
    n = next(_numbers)
    return {"name": f"New {n}", "sku": f"NEW-{n}", "price": "9.99", "category": new_category().pk}


class TestCatalogEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint(
            "POST",
            "/api/v1/categories/",
            "products.add_category",
            lambda: {"name": f"New {next(_numbers)}"},
            201,
        ),
        Endpoint(
            "PATCH",
            "/api/v1/categories/{pk}/",
            "products.change_category",
            {"description": "Changed"},
            make_object=a_category,
        ),
        Endpoint(
            "DELETE",
            "/api/v1/categories/{pk}/",
            "products.delete_category",
            success=204,
            make_object=a_category,
        ),
        Endpoint("POST", "/api/v1/products/", "products.add_product", new_product_payload, 201),
        Endpoint(
            "PATCH",
            "/api/v1/products/{pk}/",
            "products.change_product",
            {"price": "12.50"},
            make_object=a_product,
        ),
        Endpoint(
            "DELETE", "/api/v1/products/{pk}/", "products.delete_product", success=204, make_object=a_product
        ),
        Endpoint(
            "POST",
            "/api/v1/products/{pk}/stock/",
            "products.adjust_stock",
            {"delta": -3, "reason": "sale"},
            make_object=a_product,
        ),
        Endpoint(
            "GET",
            "/api/v1/products/{pk}/stock-movements/",
            "products.view_stockmovement",
            make_object=a_product,
        ),
    ]
