from django.core.exceptions import PermissionDenied
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.bookings import availability, rules, selectors, services
from apps.bookings.filters import BookingFilter, ProviderFilter
from apps.bookings.models import MAX_DURATION_MINUTES, MIN_DURATION_MINUTES, Booking
from apps.bookings.serializers import (
    AvailabilityQuerySerializer,
    AvailabilitySearchQuerySerializer,
    AvailabilitySerializer,
    BookingCancelSerializer,
    BookingCreateSerializer,
    BookingSerializer,
    BookingUpdateSerializer,
    NextSlotQuerySerializer,
    ProviderCreateSerializer,
    ProviderFirstSlotSerializer,
    ProviderProfileUpdateSerializer,
    ProviderSerializer,
    ProviderSlotSerializer,
    WorkingHoursSerializer,
    WorkingHoursWriteSerializer,
    working_hours_representation,
)
from apps.bookings.throttles import BookingChangePerProviderThrottle, BookingChangeThrottle
from apps.core.api import GenericViewSet, public_action, validated
from apps.core.filters import DjangoFilterBackend, OrderingFilter
from apps.core.pagination import PageNumberPagination, StreamPagination

OWN = (
    "Your own bookings, as the customer or as the provider; everyone's with `bookings.view_all_bookings`. "
    "Anyone else's booking is a 404."
)
WRONG_STATE = OpenApiResponse(description="The booking's status (or its time) does not allow this.")
OVERLAP = OpenApiResponse(
    description="The time overlaps an active booking of the provider, or another of your own bookings."
)
FINISH = f"The provider or staff (403 otherwise); confirmed bookings that have started (409 otherwise). {OWN}"
MANAGE_PROVIDERS = selectors.MANAGE_PROVIDERS
NOT_A_PROVIDER = "Only providers (users in the provider role) have working hours."
CHANGES_LIMITED = (
    "Bookings made, and cancelled as their customer, are rate-limited per customer "
    "(`THROTTLE_BOOKING_CHANGES_RATE`) and per customer and provider "
    "(`THROTTLE_BOOKING_CHANGES_PER_PROVIDER_RATE`): 429 past either."
)


@extend_schema_view(
    list=extend_schema(
        summary="List providers",
        description=(
            "Active users in the provider role with the active services they offer. Anyone may read it."
        ),
    ),
    retrieve=extend_schema(summary="Read a provider", description="Anyone may read it."),
)
@extend_schema(tags=["bookings"])
class ProviderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = ProviderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProviderFilter
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    public_actions = ("list", "retrieve", "availability")
    action_permissions = {
        "create": [MANAGE_PROVIDERS],
        "destroy": [MANAGE_PROVIDERS],
        "me": ["bookings.view_providerprofile"],
        "me_update": ["bookings.change_providerprofile"],
        "working_hours": ["bookings.view_workinghours"],
        "working_hours_replace": ["bookings.change_workinghours"],
    }

    def get_queryset(self):
        return selectors.provider_list()

    def _provider(self, provider_id: int, status_code=status.HTTP_200_OK) -> Response:
        provider = selectors.provider_detail(provider_id=provider_id)
        return Response(ProviderSerializer(provider).data, status=status_code)

    @extend_schema(
        summary="Make a user a provider",
        request=ProviderCreateSerializer,
        responses={201: ProviderSerializer, 200: ProviderSerializer},
        description=(
            f"Needs `{MANAGE_PROVIDERS}`. Gives the active user `user` the provider role, keeping their "
            "other roles (a customer who becomes a provider can still book), with their profile: "
            "`time_zone` (UTC at first) and `services`, the ids of the products on sale they offer. 201 "
            "when the user became a provider; 200 when they were one already (the profile is updated). "
            "An unknown or inactive user is a 400 on `user`, a product not on sale a 400 naming its "
            "item (`services.1`); the rules of giving a role apply (403 for a role whose permissions "
            "you lack). Their weekly hours are theirs to set (`providers/me/working-hours/`)."
        ),
        examples=[
            OpenApiExample(
                "A new provider",
                value={"user": 42, "time_zone": "Europe/London", "services": [7, 9]},
                request_only=True,
            )
        ],
    )
    def create(self, request):
        data = validated(ProviderCreateSerializer, request)
        profile, added = services.provider_make(
            user_id=data["user"],
            time_zone=data.get("time_zone"),
            service_ids=data.get("services"),
            actor=request.user,
            request=request,
        )
        return self._provider(profile.pk, status.HTTP_201_CREATED if added else status.HTTP_200_OK)

    @extend_schema(
        summary="Stop a user being a provider",
        request=None,
        responses={
            204: OpenApiResponse(description="Done; no body."),
            409: OpenApiResponse(description="They have pending or confirmed bookings still to come."),
        },
        description=(
            f"Needs `{MANAGE_PROVIDERS}`. Takes the provider role; their other roles stay. Refused with "
            "a 409 while they have pending or confirmed bookings that have not ended (cancel or move "
            "them first). Their profile, hours and services are kept for if they come back; past "
            "bookings keep naming them. Not a provider: 404."
        ),
    )
    def destroy(self, request, pk=None):
        services.provider_remove(provider=self.get_object(), actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Your provider profile",
        responses={200: ProviderSerializer},
        description=(
            f"Needs `bookings.view_providerprofile`. {NOT_A_PROVIDER} As `providers/{{id}}/` shows it: "
            "your time zone and the services on sale you offer."
        ),
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="me", filter_backends=[], pagination_class=None)
    def me(self, request):
        self._require_provider(request)
        return self._provider(request.user.pk)

    @extend_schema(
        summary="Change your time zone or services",
        request=ProviderProfileUpdateSerializer,
        responses={200: ProviderSerializer},
        description=(
            f"Needs `bookings.change_providerprofile`. {NOT_A_PROVIDER} `services` (product ids) replaces "
            "the products on sale you offer; one not on sale is a 400 naming its item (`services.1`). "
            "Bookings already made stay as they are, also for a service you take off the list. Each "
            "change is audited (`provider.update`)."
        ),
    )
    @me.mapping.patch
    def me_update(self, request):
        self._require_provider(request)
        data = validated(ProviderProfileUpdateSerializer, request)
        services.provider_profile_update(
            provider=request.user,
            time_zone=data.get("time_zone"),
            service_ids=data.get("services"),
            actor=request.user,
            request=request,
        )
        return self._provider(request.user.pk)

    @extend_schema(
        summary="A provider's free slots on a day",
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, required=True, description="`YYYY-MM-DD`, in the provider's zone."
            ),
            OpenApiParameter(
                "duration",
                {
                    "type": "integer",
                    "minimum": max(MIN_DURATION_MINUTES, rules.slot_minutes()),
                    "maximum": MAX_DURATION_MINUTES,
                    "multipleOf": rules.slot_minutes(),
                    "default": 60,
                },
                description="Minutes: 15 to 480, a multiple of the slot size (15); 60 when left out.",
            ),
        ],
        responses={200: AvailabilitySerializer},
        description=(
            "Every start on the provider's slot grid where a booking of `duration` minutes fits inside "
            "their working hours (none on a day off, the day's own on a day of changed hours), clear of "
            "their pending and confirmed bookings and at least the lead time ahead, as ISO 8601 with the "
            "provider's UTC offset (which changes with daylight saving time). "
            "Anyone may ask; a date further ahead than bookings may be made is a 400."
        ),
    )
    @public_action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def availability(self, request, pk=None):
        query = _one_each(request, AvailabilityQuerySerializer)
        minutes, day = query["duration"], query["date"]
        provider = selectors.provider_with_hours(provider_id=int(pk), day=day)
        if provider is None:
            raise NotFound()
        if (problem := rules.duration_problem(minutes)) is not None:
            raise ValidationError({"duration": [problem]})
        tz, now = selectors.provider_zone(provider), timezone.now()
        latest = rules.latest_start(now)
        if day > latest.astimezone(tz).date():
            raise ValidationError(
                {"date": [f"Bookings may be made at most {(latest - now).days} days ahead."]}
            )
        slots = []
        if day >= now.astimezone(tz).date():  # a past day has no free slot left
            lo, hi = rules.day_bounds(day, tz)
            slots = rules.free_slots(
                day=day,
                hours=selectors.provider_hours(provider),
                tz=tz,
                busy=selectors.busy_intervals(provider_id=provider.pk, start=lo, end=hi),
                minutes=minutes,
                earliest=rules.earliest_start(now),
                latest=latest,
                exceptions=provider.day_exceptions,
            )
        return Response(
            {
                "provider": provider.pk,
                "date": day.isoformat(),
                "time_zone": tz.key,
                "duration_minutes": minutes,
                "slots": [
                    {
                        "start": slot.start.astimezone(tz).isoformat(),
                        "end": slot.end.astimezone(tz).isoformat(),
                    }
                    for slot in slots
                ],
            }
        )

    def _own_schedule(self, request) -> Response:
        profile = getattr(request.user, "provider_profile", None)
        rows = selectors.working_hours_of(profile=profile)
        return Response(working_hours_representation(profile, rows))

    def _require_provider(self, request) -> None:
        if not selectors.is_provider(request.user):
            raise PermissionDenied(NOT_A_PROVIDER)

    @extend_schema(
        summary="Your weekly working hours",
        responses={200: WorkingHoursSerializer},
        description=f"Needs `bookings.view_workinghours`. {NOT_A_PROVIDER} Weekday 0 is Monday.",
        filters=False,
    )
    @action(
        detail=False, methods=["get"], url_path="me/working-hours", filter_backends=[], pagination_class=None
    )
    def working_hours(self, request):
        self._require_provider(request)
        return self._own_schedule(request)

    @extend_schema(
        summary="Replace your weekly working hours",
        request=WorkingHoursWriteSerializer,
        responses={200: WorkingHoursSerializer},
        description=(
            f"Needs `bookings.change_workinghours`. {NOT_A_PROVIDER} The whole week at once: intervals of "
            "wall-clock time in `time_zone` (`HH:MM`, end after start on the same day), several a day "
            "allowed, never overlapping (touching is fine). Existing bookings stay as they are. "
            "`time_zone` is a canonical IANA name (`Area/Location`, e.g. `Europe/London`) or `UTC`: "
            "`localtime`, `Factory`, POSIX rules (`EST5EDT`), `Etc/…` and old aliases (`US/Eastern`, "
            "`Asia/Calcutta`) are a 400."
        ),
    )
    @working_hours.mapping.put
    def working_hours_replace(self, request):
        self._require_provider(request)
        data = validated(WorkingHoursWriteSerializer, request)
        services.working_hours_replace(
            provider=request.user,
            intervals=data["intervals"],
            time_zone=data.get("time_zone"),
            actor=request.user,
            request=request,
        )
        profile = services.provider_profile_for(request.user)
        return Response(working_hours_representation(profile, selectors.working_hours_of(profile=profile)))


@extend_schema_view(
    list=extend_schema(
        summary="List bookings",
        description=(
            f"Newest start first. {OWN} `start_after` and `start_before` take any UTC offset and compare "
            "the instant; a time outside years 1-9999 in UTC is a 400. Ids out of 1..2^63-1 are a 400."
        ),
    ),
    retrieve=extend_schema(summary="Read a booking", description=OWN),
    create=extend_schema(
        summary="Book a provider",
        request=BookingCreateSerializer,
        responses={201: BookingSerializer, 409: OVERLAP},
        description=(
            "Needs `bookings.add_booking`. A pending booking: `start` with its UTC offset, on the "
            "provider's slot grid, at least `BOOKING_LEAD_MINUTES` ahead, inside their working hours; "
            "`duration_minutes` 15 to 480 in steps of the slot size. The price is the service's at this "
            "moment. A broken rule is a 400 naming the field; an overlap with an active booking of the "
            "provider or of yours a 409. The customer is told at once, the provider after "
            "`BOOKING_CREATED_MESSAGE_DELAY_SECONDS` (not at all if the booking is cancelled by then). "
            f"{CHANGES_LIMITED}"
        ),
        examples=[
            OpenApiExample(
                "An hour with a provider",
                value={
                    "provider": 42,
                    "service": 7,
                    "start": "2030-01-31T09:00:00+01:00",
                    "duration_minutes": 60,
                    "notes": "First visit.",
                },
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(
        summary="Move a booking or change its notes",
        request=BookingUpdateSerializer,
        responses={200: BookingSerializer, 409: OVERLAP},
        description=(
            "Needs `bookings.change_booking`. A new `start` or `duration_minutes` follows the rules of a new "
            "booking; customers move a booking until `BOOKING_CANCEL_CUTOFF_HOURS` before it starts, and a "
            "confirmed booking a customer moves is pending again. Only pending and confirmed bookings change "
            f"(409 otherwise). {OWN}"
        ),
    ),
)
@extend_schema(tags=["bookings"])
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = BookingSerializer
    permission_model = Booking
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = BookingFilter
    ordering_fields = ["start", "created_at"]
    ordering = ["-start", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    # The rules of each change (who, when, from which status) are the services'.
    action_permissions = {"cancel": [], "confirm": [], "complete": [], "no_show": []}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        return selectors.booking_list(user=self.request.user)

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action in ("create", "cancel"):  # each messages the provider
            throttles += [BookingChangeThrottle(), BookingChangePerProviderThrottle()]
        return throttles

    def _answer(self, booking, status_code=status.HTTP_200_OK) -> Response:
        return Response(BookingSerializer(booking).data, status=status_code)

    def create(self, request):
        data = validated(BookingCreateSerializer, request)
        booking = services.booking_create(
            customer=request.user,
            provider_id=data["provider"],
            product_id=data.get("product"),
            start=data["start"],
            duration_minutes=data["duration_minutes"],
            notes=data.get("notes", ""),
            request=request,
        )
        return self._answer(booking, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        booking = self.get_object()
        data = validated(BookingUpdateSerializer, request)
        booking = services.booking_update(booking=booking, data=data, actor=request.user, request=request)
        return self._answer(booking)

    @extend_schema(
        summary="Cancel a booking",
        request=BookingCancelSerializer,
        responses={200: BookingSerializer, 409: WRONG_STATE},
        description=(
            "The customer until `BOOKING_CANCEL_CUTOFF_HOURS` (24) before the start, the provider and "
            "staff (`bookings.view_all_bookings`) at any time; pending and confirmed bookings only (409 "
            "otherwise). "
            "Each party who was told of the booking is told, with the reason; one whose booking-made "
            f"message had not gone out yet hears of neither. {CHANGES_LIMITED} {OWN}"
        ),
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        booking = self.get_object()
        data = validated(BookingCancelSerializer, request)
        booking = services.booking_cancel(
            booking=booking, actor=request.user, reason=data.get("reason", ""), request=request
        )
        return self._answer(booking)

    @extend_schema(
        summary="Confirm a booking",
        request=None,
        responses={200: BookingSerializer, 409: WRONG_STATE},
        description=(
            "The provider, or staff holding `bookings.confirm_booking` (never the booking's customer: 403); "
            f"pending bookings that have not started only (409 otherwise). {OWN}"
        ),
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._answer(
            services.booking_confirm(booking=self.get_object(), actor=request.user, request=request)
        )

    @extend_schema(
        summary="Mark a booking completed",
        request=None,
        responses={200: BookingSerializer, 409: WRONG_STATE},
        description=FINISH,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._answer(
            services.booking_complete(booking=self.get_object(), actor=request.user, request=request)
        )

    @extend_schema(
        summary="Mark a booking a no-show",
        request=None,
        responses={200: BookingSerializer, 409: WRONG_STATE},
        description=FINISH,
    )
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._answer(
            services.booking_no_show(booking=self.get_object(), actor=request.user, request=request)
        )


def _one_each(request, serializer_class) -> dict:
    """The query parameters `serializer_class` reads, each given once, validated (400 otherwise)."""
    names = serializer_class().fields
    repeated = {
        name: ["Give this parameter once."] for name in names if len(request.query_params.getlist(name)) > 1
    }
    if repeated:
        raise ValidationError(repeated)
    serializer = serializer_class(
        data={name: request.query_params[name] for name in names if name in request.query_params}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


SEARCH_RULES = (
    "Anyone may ask, as for one provider's availability. A slot follows the rules of a booking: on the "
    "provider's slot grid, inside their working hours, clear of their pending and confirmed bookings, "
    "at least `BOOKING_LEAD_MINUTES` and at most `BOOKING_MAX_DAYS_AHEAD` days ahead. Times are ISO 8601 "
    "with the provider's UTC offset. An unknown service, or one not on sale, is a 400."
)


@extend_schema(tags=["bookings"])
class AvailabilityViewSet(GenericViewSet):
    """Free slots across every provider who offers a service."""

    authentication_classes = []  # public, like providers/{id}/availability/: no token read at all
    permission_classes = [AllowAny]
    filter_backends = []
    serializer_class = ProviderSlotSerializer
    pagination_class = StreamPagination  # slots worked out page by page: no count

    @extend_schema(
        summary="Free slots of every provider of a service",
        parameters=[AvailabilitySearchQuerySerializer],
        responses={200: ProviderSlotSerializer(many=True)},
        description=(
            "Every free slot of every active provider who offers `service`, starting between `from` and "
            f"`to` (at most {availability.MAX_SEARCH_DAYS} days apart; dates are days in each provider's "
            "zone, `to` included), the soonest first and then by provider id, paged. A `from` past the "
            f"booking horizon, a `to` before `from` or too far after it: 400. {SEARCH_RULES}"
        ),
    )
    def list(self, request):
        query = _one_each(request, AvailabilitySearchQuerySerializer)
        slots = availability.availability_search(
            product_id=query["service"],
            start=query["from"],
            end=query["to"],
            minutes=query["duration"],
            now=timezone.now(),
        )
        page = self.paginate_queryset(slots)
        return self.get_paginated_response(ProviderSlotSerializer(page, many=True).data)

    @extend_schema(
        summary="The first free slot of each provider of a service",
        parameters=[NextSlotQuerySerializer],
        responses={200: ProviderFirstSlotSerializer(many=True)},
        description=(
            "Each active provider who offers `service` with their earliest free slot up to the booking "
            "horizon (`slot` null without one): the soonest first, so the first entry is the first free "
            f"slot of all; then by provider id, those without a slot last; paged. {SEARCH_RULES}"
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=PageNumberPagination)
    def next(self, request):
        query = _one_each(request, NextSlotQuerySerializer)
        entries = availability.first_free_slots(
            product_id=query["service"], minutes=query["duration"], now=timezone.now()
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(ProviderFirstSlotSerializer(page, many=True).data)
