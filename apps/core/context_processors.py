from django.conf import settings


def environment(request):
    """Lets the admin show which environment staff are working in."""
    return {"environment_name": settings.ENVIRONMENT_NAME}
