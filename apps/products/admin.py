"""The catalog in the admin. Every write goes through apps/products/services, as the API's do: it
is validated the same way, audited, and moves the catalog's cache version.

Stock is never a form field. It changes on the "Adjust stock" page (`<id>/adjust-stock/`, needs
`products.adjust_stock`), which calls `stock_adjust` and so writes a stock movement; the movements
are shown read-only under the product and in their own read-only list.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.core.admin import ReadOnlyModelAdmin, adopt_saved
from apps.core.errors import DomainError
from apps.products import services
from apps.products.forms import (
    CategoryAdminForm,
    ProductAddForm,
    ProductAdminForm,
    StockAdjustForm,
    add_domain_error,
)
from apps.products.models import Category, Product, StockMovement

LATEST_MOVEMENTS = 20  # under a product; the full ledger is one link away


def _changed(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in names}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("name", "slug", "is_active", "product_count")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "description", "is_active", "created_at", "updated_at")
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(products_total=Count("products"))

    @admin.display(description=_("products"), ordering="products_total")
    def product_count(self, category: Category) -> int:
        return category.products_total

    def save_model(self, request, obj, form, change):
        if change:
            data = _changed(form, services.CATEGORY_FIELDS)
            saved = (
                services.category_update(category=obj, data=data, actor=request.user, request=request)
                if data
                else obj  # "Save" with nothing changed: no write, no audit entry
            )
        else:
            data = {name: form.cleaned_data[name] for name in services.CATEGORY_FIELDS}
            saved = services.category_create(actor=request.user, request=request, **data)
        adopt_saved(obj, saved)

    # A category with products never gets here: the admin's delete pages list its products as
    # protected objects and delete nothing.
    def delete_model(self, request, obj):
        services.category_delete(category=obj, actor=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for category in queryset:
            services.category_delete(category=category, actor=request.user, request=request)


class LatestStockMovementsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        if not hasattr(self, "_latest"):
            self._latest = super().get_queryset().order_by("-created_at", "-id")[:LATEST_MOVEMENTS]
        return self._latest


class StockMovementInline(admin.TabularInline):
    """The product's latest stock movements, read-only: the ledger is append-only."""

    model = StockMovement
    formset = LatestStockMovementsFormSet
    fields = ("created_at", "delta", "reason", "resulting_stock", "note", "actor_id")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("latest stock movements")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    add_form = ProductAddForm
    list_display = ("name", "sku", "category", "price", "stock", "is_active", "thumbnail")
    list_filter = ("is_active", "category")
    list_select_related = ("category",)
    search_fields = ("name", "sku", "description")
    autocomplete_fields = ("category",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("stock", "stock_history", "image_preview", "created_at", "updated_at")
    inlines = [StockMovementInline]
    change_form_template = "admin/products/product/change_form.html"
    fieldsets = (
        (None, {"fields": ("name", "slug", "sku", "category", "description", "is_active")}),
        (_("Price and stock"), {"fields": ("price", "stock", "stock_history", "low_stock_threshold")}),
        (_("Image"), {"fields": ("image", "image_preview")}),
        (_("History"), {"fields": ("created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"fields": ("name", "slug", "sku", "category", "description", "is_active")}),
        (_("Price and stock"), {"fields": ("price", "opening_stock", "low_stock_threshold")}),
        (_("Image"), {"fields": ("image",)}),
    )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.add_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # a new product has no movements yet

    # --- Display --------------------------------------------------------------------------------------
    @admin.display(description=_("image"))
    def thumbnail(self, product: Product):
        if not product.image:
            return self.get_empty_value_display()
        return format_html(
            '<img src="{}" alt="" style="width:40px;height:40px;object-fit:cover">', product.image.url
        )

    @admin.display(description=_("preview"))
    def image_preview(self, product: Product):
        if not product.image:
            return self.get_empty_value_display()
        return format_html(
            '<img src="{}" alt="" style="max-width:240px;max-height:240px">', product.image.url
        )

    @admin.display(description=_("stock history"))
    def stock_history(self, product: Product):
        changelist = reverse("admin:products_stockmovement_changelist")
        return format_html('<a href="{}?product={}">{}</a>', changelist, product.pk, _("All stock movements"))

    # --- Writes, through the services -----------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        if change:
            data = _changed(form, services.PRODUCT_FIELDS)
            saved = (
                services.product_update(product=obj, data=data, actor=request.user, request=request)
                if data
                else obj
            )
        else:
            data = {name: form.cleaned_data[name] for name in services.PRODUCT_FIELDS}
            stock = form.cleaned_data.get("opening_stock") or 0
            saved = services.product_create(actor=request.user, request=request, stock=stock, **data)
        if "image" in form.changed_data:
            image = form.cleaned_data["image"]
            if image:
                saved = services.product_image_set(
                    product=saved, image=image, actor=request.user, request=request
                )
            else:  # "Clear" ticked
                saved = services.product_image_delete(product=saved, actor=request.user, request=request)
        adopt_saved(obj, saved)

    def delete_model(self, request, obj):
        if not services.product_delete(product=obj, actor=request.user, request=request):
            self.message_user(
                request,
                _("%(product)s is referred to elsewhere: it was deactivated instead.") % {"product": obj},
                messages.WARNING,
            )

    def delete_queryset(self, request, queryset):
        for product in queryset:
            self.delete_model(request, product)

    # --- Adjust stock ---------------------------------------------------------------------------------
    def get_urls(self):
        adjust = path(
            "<path:object_id>/adjust-stock/",
            self.admin_site.admin_view(self.adjust_stock_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_adjust_stock",
        )
        return [adjust, *super().get_urls()]  # before the catch-all `<path:object_id>/`

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_adjust_stock": _can_adjust_stock(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def adjust_stock_view(self, request, object_id):
        if not _can_adjust_stock(request):
            raise PermissionDenied
        product = self.get_object(request, unquote(object_id))
        if product is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = StockAdjustForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                movement = services.stock_adjust(
                    product=product, **form.cleaned_data, actor=request.user, request=request
                )
            except DomainError as exc:  # not enough stock, the cap, a product deleted meanwhile
                add_domain_error(form, exc, field="delta")
            else:
                message = _("Stock changed by %(delta)+d to %(stock)d.") % {
                    "delta": movement.delta,
                    "stock": movement.resulting_stock,
                }
                self.log_change(request, product, message)
                self.message_user(request, message, messages.SUCCESS)
                return redirect(reverse("admin:products_product_change", args=[product.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust stock"),
            "subtitle": str(product),
            "opts": self.opts,
            "original": product,
            "form": form,
        }
        return TemplateResponse(request, "admin/products/product/adjust_stock.html", context)


def _can_adjust_stock(request) -> bool:
    return request.user.has_perm("products.adjust_stock")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyModelAdmin):
    """The stock ledger, read-only: it is append-only, and only `stock_adjust` writes it."""

    list_display = ("created_at", "product", "delta", "reason", "resulting_stock", "actor_id", "note")
    list_filter = ("reason",)
    search_fields = ("product__sku",)
    search_help_text = _("Search by product SKU.")
    list_select_related = ("product",)
