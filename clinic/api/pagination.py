"""Page-number pagination that never runs COUNT(*): a million patients make COUNT slow."""

from collections import OrderedDict

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class PagePagination(BasePagination):
    page_size = 50
    max_page_size = 500
    page_query_param = "page"
    page_size_query_param = "page_size"
    max_offset = 2**31

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = self._positive_int(self.page_query_param, 1, None)
        self.size = self._positive_int(
            self.page_size_query_param, self.page_size, self.max_page_size
        )
        start = (self.page - 1) * self.size
        if start > self.max_offset:  # beyond any table; the database could not take the offset
            raise NotFound(f"Page {self.page} is past the last page.")
        # One extra row tells whether a next page exists, without counting the table.
        rows = list(queryset[start : start + self.size + 1])
        self.has_next = len(rows) > self.size
        if self.page > 1 and not rows:
            raise NotFound(f"Page {self.page} is past the last page.")
        return rows[: self.size]

    def _positive_int(self, name, default, cap):
        raw = self.request.query_params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise ValidationError({name: [f"{name} must be a whole number of 1 or more."]})
        return min(value, cap) if cap else value

    def _link(self, page):
        url = self.request.build_absolute_uri()
        if page == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, page)

    def get_paginated_response(self, data):
        return Response(
            OrderedDict(
                [
                    ("next", self._link(self.page + 1) if self.has_next else None),
                    ("previous", self._link(self.page - 1) if self.page > 1 else None),
                    ("results", data),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
