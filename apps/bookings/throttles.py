"""Rate limits on the booking writes that message a provider: making a booking and cancelling it.

Each sends the provider a message carrying the customer's text (notes, a reason), so a customer
booking and cancelling in a loop could fill a provider's inbox. Two budgets, both sliding windows
that keep counting while Redis is down (`SecurityThrottle`): every such change by one customer
(`THROTTLE_BOOKING_CHANGES_RATE`), and those between one customer and one provider
(`THROTTLE_BOOKING_CHANGES_PER_PROVIDER_RATE`). A cancellation counts when the caller is the
booking's customer; a provider or staff cancelling is not limited here.
"""

from apps.bookings.models import Booking
from apps.core.fields import MAX_ID
from apps.core.throttles import SecurityThrottle

# Not a provider id: the request names none (a 400 follows) or the caller is not the customer.
_NONE = object()


def _provider_of(request, view):
    """The provider the caller's booking change concerns; `_NONE` when there is none to count."""
    cached = getattr(view, "_throttled_provider", None)
    if cached is not None:
        return cached
    provider = _NONE
    if view.action == "create":
        data = request.data if hasattr(request.data, "get") else {}
        value = data.get("provider")
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
            provider = value
    elif view.action == "cancel":
        found = (
            Booking.objects.filter(pk=view.kwargs.get("pk"), customer_id=request.user.pk)
            .values_list("provider_id", flat=True)
            .first()
        )
        provider = _NONE if found is None else found
    view._throttled_provider = provider
    return provider


class BookingChangeThrottle(SecurityThrottle):
    """Bookings made, and cancelled as their customer, per user."""

    scope = "booking_changes"

    def get_cache_key(self, request, view):
        if view.action == "cancel" and _provider_of(request, view) is _NONE:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class BookingChangePerProviderThrottle(SecurityThrottle):
    """Bookings made, and cancelled as their customer, per user and provider."""

    scope = "booking_changes_per_provider"

    def get_cache_key(self, request, view):
        provider = _provider_of(request, view)
        if provider is _NONE:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{request.user.pk}:{provider}"}
