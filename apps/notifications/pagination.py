from apps.core.pagination import PageNumberPagination
from apps.notifications import selectors


class InboxPagination(PageNumberPagination):
    """Pages of the inbox, with the unread count of the whole inbox (not of this page or filter)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.unread_count = selectors.unread_count(user=request.user)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread_count"] = self.unread_count
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["unread_count"] = {
            "type": "integer",
            "description": "Unread messages in the whole inbox, whatever the filter.",
        }
        schema["required"] = [*schema.get("required", []), "unread_count"]
        return schema
