from tests.api_permissions import Endpoint, EndpointPermissionTests
from tests.notifications.factories import in_app_message


class TestNotificationEndpoints(EndpointPermissionTests):
    endpoints = [
        Endpoint("GET", "/api/v1/notifications/", None),
        Endpoint(
            "GET", "/api/v1/notifications/{pk}/", None, make_object=in_app_message, owner_field="recipient"
        ),
        Endpoint(
            "POST",
            "/api/v1/notifications/{pk}/read/",
            None,
            make_object=in_app_message,
            owner_field="recipient",
        ),
        Endpoint("POST", "/api/v1/notifications/read-all/", None),
        Endpoint("GET", "/api/v1/notifications/preferences/", None),
        Endpoint("PATCH", "/api/v1/notifications/preferences/", None, {"catalog": {"email": False}}),
    ]
