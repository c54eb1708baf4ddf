"""The catalog's admin forms: the API's rules, reported as form errors.

The admin saves through the services and the image check, which refuse with a `DomainError`
(the API answers it with a 400, 413 or 415). Everything the services would refuse for the input
alone is checked here first, so staff see a message next to the field instead of an error page.
"""

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from apps.core.errors import DomainError, InvalidInput
from apps.products import images, services
from apps.products.models import MAX_STOCK, Category, Product, StockReason, reason_sign_problem

SKU_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def add_domain_error(form: forms.BaseForm, exc: DomainError, *, field: str) -> None:
    """Show a service's refusal on `form`: each field error on that field where the form has it,
    everything else on `field`."""
    if isinstance(exc, InvalidInput):
        for name, messages in exc.field_errors.items():
            form.add_error(name if name in form.fields else field, [str(message) for message in messages])
    else:
        form.add_error(field, exc.messages)


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "slug", "description", "is_active"]

    def clean_name(self):
        # The constraint compares lower-cased names; Django would report it as "Constraint … is violated".
        name = self.cleaned_data["name"]
        others = Category.objects.exclude(pk=self.instance.pk).alias(name_lower=Lower("name"))
        if others.filter(name_lower=Lower(Value(name))).exists():
            raise forms.ValidationError(services.CATEGORY_NAME_TAKEN)
        return name


class ProductAdminForm(forms.ModelForm):
    """Stock is not a field: it changes only through "Adjust stock", which records a movement."""

    # A plain file field: forms.ImageField would refuse `photo.txt` by its name before the content
    # is looked at, and accept any format Pillow knows. clean_image decides instead.
    image = forms.FileField(
        required=False,
        widget=AdminFileWidget,
        help_text=_("JPEG, PNG or WebP, recognised by its content, not by its name."),
    )

    class Meta:
        model = Product
        fields = [
            "name",
            "slug",
            "sku",
            "category",
            "description",
            "price",
            "low_stock_threshold",
            "is_active",
            "image",
        ]

    def clean_sku(self):
        # Upper-cased before the form's uniqueness check, as the service stores it: `bk-1` is `BK-1`.
        sku = self.cleaned_data["sku"].strip().upper()
        if not sku or not set(sku) <= SKU_CHARACTERS:
            raise forms.ValidationError(_("Use letters, digits, `.`, `-` and `_` only."))
        return sku

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):  # a new upload; False clears, a stored file is unchanged
            try:
                checked = images.image_check(image)
            except DomainError as exc:
                raise forms.ValidationError(exc.messages) from exc
            # The model field checks the name's extension: make the name say what the content is.
            image.name = f"image{checked.suffix}"
        return image


class ProductAddForm(ProductAdminForm):
    opening_stock = forms.IntegerField(
        min_value=0,
        max_value=MAX_STOCK,
        initial=0,
        required=False,
        help_text=_('The first stock movement. Later changes go through "Adjust stock".'),
    )


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(
        min_value=-MAX_STOCK,
        max_value=MAX_STOCK,
        help_text=_("Units to add; negative to remove."),
    )
    reason = forms.ChoiceField(
        choices=[choice for choice in StockReason.choices if choice[0] != StockReason.INITIAL]
    )
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError(_("A stock change cannot be zero."))
        return delta

    def clean(self):
        cleaned = super().clean()
        delta, reason = cleaned.get("delta"), cleaned.get("reason")
        if delta is not None and reason and (problem := reason_sign_problem(reason, delta)) is not None:
            self.add_error("delta", problem)
        return cleaned
