"""`providers/me/schedule-exceptions/`: a provider's days off, holidays and changed hours.

Kept apart from views.py's provider endpoints: these are a provider's own rows, listed, read,
changed and deleted by id like any other resource. Staff manage anyone's in the admin, inline on
the provider's profile.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.bookings import selectors, services
from apps.bookings.models import ScheduleException
from apps.bookings.serializers import (
    ScheduleExceptionSavedSerializer,
    ScheduleExceptionSerializer,
    ScheduleExceptionUpdateSerializer,
    ScheduleExceptionWriteSerializer,
)
from apps.core import errors
from apps.core.api import GenericViewSet, validated

NOT_A_PROVIDER = "Only providers (users in the provider role) have a schedule."
OWN = "Your own only: anyone else's is a 404."
OVERLAP = OpenApiResponse(description="Another of your exceptions covers one of these days.")
REPORTED = (
    "Active bookings that the new schedule leaves outside working time are not cancelled: they are listed "
    "in `conflicting_bookings`, and you are sent a message (`schedule_exception_conflicts`) naming them."
)


@extend_schema_view(
    list=extend_schema(
        summary="Your days off and changed hours",
        description=f"Needs `bookings.view_scheduleexception`. {NOT_A_PROVIDER} Soonest first.",
    ),
    retrieve=extend_schema(
        summary="Read one of your schedule exceptions",
        description=f"Needs `bookings.view_scheduleexception`. {OWN}",
    ),
    create=extend_schema(
        summary="Take time off, or change your hours on some days",
        request=ScheduleExceptionWriteSerializer,
        responses={201: ScheduleExceptionSavedSerializer, 409: OVERLAP},
        description=(
            f"Needs `bookings.add_scheduleexception`. {NOT_A_PROVIDER} From `start_date` to `end_date` "
            "(inclusive, your zone; one day when left out, at most 366) your weekly hours do not apply: "
            "`day_off` and `holiday` have no hours, `hours` has `intervals` instead (`HH:MM`, end after "
            "start on the same day; hours past midnight are two intervals). Days already over are a 400; "
            f"a day another exception covers a 409. {REPORTED}"
        ),
        examples=[
            OpenApiExample(
                "A week off", value={"start_date": "2030-08-05", "end_date": "2030-08-11", "kind": "holiday"}
            ),
            OpenApiExample(
                "A short day",
                value={
                    "start_date": "2030-12-24",
                    "kind": "hours",
                    "intervals": [{"start": "09:00", "end": "13:00"}],
                    "note": "Christmas Eve",
                },
            ),
        ],
    ),
    partial_update=extend_schema(
        summary="Change one of your schedule exceptions",
        request=ScheduleExceptionUpdateSerializer,
        responses={200: ScheduleExceptionSavedSerializer, 409: OVERLAP},
        description=(
            f"Needs `bookings.change_scheduleexception`. The fields given change, under the rules of a new "
            f"one; a new `start_date` without `end_date` makes it one day. {REPORTED} {OWN}"
        ),
    ),
    destroy=extend_schema(
        summary="Delete one of your schedule exceptions",
        description=(
            "Needs `bookings.delete_scheduleexception`. Its days follow your weekly hours again. " + OWN
        ),
    ),
)
@extend_schema(tags=["bookings"])
class ScheduleExceptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = ScheduleExceptionSerializer
    permission_model = ScheduleException
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def check_permissions(self, request):
        super().check_permissions(request)
        if self.action != "metadata" and not selectors.is_provider(request.user):
            raise errors.PermissionDenied(NOT_A_PROVIDER)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ScheduleException.objects.none()
        return selectors.schedule_exception_list(provider_id=self.request.user.pk)

    def _saved(self, saved, status_code=status.HTTP_200_OK) -> Response:
        return Response(ScheduleExceptionSavedSerializer(saved).data, status=status_code)

    def create(self, request):
        data = validated(ScheduleExceptionWriteSerializer, request)
        saved = services.schedule_exception_create(
            provider=request.user,
            start_date=data["start_date"],
            end_date=data.get("end_date"),
            kind=data["kind"],
            intervals=data.get("intervals", []),
            note=data.get("note", ""),
            actor=request.user,
            request=request,
        )
        return self._saved(saved, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        exception = self.get_object()
        data = validated(ScheduleExceptionUpdateSerializer, request)
        saved = services.schedule_exception_update(
            exception=exception, data=data, actor=request.user, request=request
        )
        return self._saved(saved)

    def destroy(self, request, pk=None):
        services.schedule_exception_delete(exception=self.get_object(), actor=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
