"""The floor: the user list and detail as plain Django function views.

No DRF, no authentication, no permission check, no throttle, no filter backends: the same rows
as GET /api/v1/users/ (page 1 or any page, 20 rows and the count) and GET /api/v1/users/{id}/,
read with .values() and answered with JsonResponse. They pass through the same middleware, the
same gunicorn and the same database as the API, so the API's figure divided by the floor's is
what the API's own machinery costs on top of what any Django view of this data must pay.
"""

from django.conf import settings
from django.http import JsonResponse

from apps.accounts.models import User
from apps.accounts.serializers import UserSerializer

# Exactly the fields the API answers with, whether UserSerializer is a ModelSerializer (the base
# commit) or a plain Serializer.
FIELDS = tuple(UserSerializer().fields)
PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


def _page_url(request, page: int) -> str:
    return request.build_absolute_uri(f"{request.path}?page={page}")


def user_list(request):
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 0
    if page < 1:
        return JsonResponse({"detail": "Invalid page."}, status=400)
    users = User.objects.order_by("id")
    count = users.count()
    offset = (page - 1) * PAGE_SIZE
    if offset >= count and page != 1:
        return JsonResponse({"detail": "Invalid page."}, status=404)
    return JsonResponse(
        {
            "count": count,
            "next": _page_url(request, page + 1) if offset + PAGE_SIZE < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "results": list(users.values(*FIELDS)[offset : offset + PAGE_SIZE]),
        }
    )


def user_detail(request, pk: int):
    rows = list(User.objects.filter(pk=pk).values(*FIELDS)[:1])
    if not rows:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(rows[0])
