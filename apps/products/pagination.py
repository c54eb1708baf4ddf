"""Catalog pages: the project's page numbers, with a count that stops at a cap.

An exact `COUNT(*)` reads every matching row: at a million products it costs more than the page
itself, and grows with the catalog. The count here reads at most `CATALOG_COUNT_CAP + 1` rows, so
a page costs the same at ten thousand products as at a million. Past the cap, `count` is the cap,
`count_capped` is true, and the last page is the one that holds the cap-th match: a client reaches
the rest by narrowing the filters, as with any search engine.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from apps.core.pagination import PageNumberPagination


class CappedCountPaginator(Paginator):
    @cached_property
    def matches(self) -> int:
        """Matches counted up to one past the cap."""
        # Without the list's ORDER BY: any cap+1 matches will do, and an ordering would steer the
        # planner onto the ordering's index instead of the one that finds matches fastest (a
        # common search term read 240,000 rows that way to count 10,001).
        return self.object_list.order_by()[: settings.CATALOG_COUNT_CAP + 1].count()

    @property
    def count_capped(self) -> bool:
        return self.matches > settings.CATALOG_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return min(self.matches, settings.CATALOG_COUNT_CAP)

    def page(self, number):
        """Django's page, except that the query always asks for a whole page (LIMIT page_size).

        Django trims the last page's LIMIT to the rows the count says are left, so a search with one
        match asks for LIMIT 1, and PostgreSQL then prefers to walk the newest-first index hoping to
        meet that row early: a rare term read the whole index (2.5 s at a million products) instead
        of its trigram matches (a few ms). The page is cut to the count afterwards.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # No query when the count says the page is empty: a LIMIT over no matches walks the index.
        rows = list(self.object_list[bottom : bottom + self.per_page]) if self.count > bottom else []
        return self._get_page(rows[: self.count - bottom], number, self)  # the cap's page ends at the cap


class CatalogPagination(PageNumberPagination):
    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.count_capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count"]["description"] = (
            "Matches, counted up to the cap; with `count_capped`, at least this many."
        )
        schema["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "More matches exist than `count` says; narrow the filters to reach them.",
        }
        schema["required"] = [*schema.get("required", []), "count_capped"]
        return schema
