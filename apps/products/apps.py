from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "apps.products"
    label = "products"
    verbose_name = "Catalog"

    def ready(self):
        from apps.products import notifications  # noqa: F401 - registers the low-stock message
