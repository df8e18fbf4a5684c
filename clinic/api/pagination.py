"""Page-number pagination that never runs COUNT(*): a million patients make COUNT slow.

The `next` and `previous` links also carry a keyset `cursor` (the ordering values of the page's
last or first row), so following them costs the same at page 20,000 as at page 2: the database
seeks on the ordering's index instead of skipping rows. `page` alone (typed by hand) still
works by offset. Orderings with a nullable value at the page edge fall back to the offset.
"""

import base64
import binascii
import datetime
import json
from collections import OrderedDict
from functools import reduce
from operator import or_

from django.db.models import Q
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

BAD_CURSOR = "This cursor is not valid for this list; start again from the first page."


def _keyset_terms(queryset) -> list[tuple[str, bool]] | None:
    """[(attname, descending)] of a plain-field ordering that ends on the primary key, else None."""
    query = queryset.query
    terms = list(query.order_by) or (
        list(query.get_meta().ordering) if query.default_ordering else []
    )
    if not terms or not all(isinstance(term, str) for term in terms):
        return None
    meta, out = queryset.model._meta, []
    for term in terms:
        name = term.lstrip("-")
        if "__" in name or name == "?":
            return None
        field = meta.pk if name == "pk" else meta.get_field(name)
        if not field.concrete or getattr(field, "many_to_many", False):
            return None
        out.append((field.attname, term.startswith("-")))
    if out[-1][0] != meta.pk.attname:
        return None  # not unique: the cursor could skip or repeat rows
    return out


def _plain(value):
    return value.isoformat() if isinstance(value, (datetime.date, datetime.datetime)) else value


def _seek(terms, values, backwards: bool) -> Q:
    """Rows after `values` in the ordering (before them when `backwards`)."""
    clauses, equal = [], {}
    for (name, descending), value in zip(terms, values, strict=True):
        clauses.append(
            Q(**equal, **{f"{name}__{'lt' if descending != backwards else 'gt'}": value})
        )
        equal[name] = value
    name, descending = terms[0]
    # The leading bound lets the database seek the index; the OR picks the exact position.
    bound = Q(**{f"{name}__{'lte' if descending != backwards else 'gte'}": values[0]})
    return bound & reduce(or_, clauses)


class PagePagination(BasePagination):
    page_size = 50
    max_page_size = 500
    page_query_param = "page"
    page_size_query_param = "page_size"
    max_offset = 2**31
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page = self._positive_int(self.page_query_param, 1, None)
        self.size = self._positive_int(
            self.page_size_query_param, self.page_size, self.max_page_size
        )
        self.terms = _keyset_terms(queryset)
        cursor = self._cursor()
        if cursor is None:
            start = (self.page - 1) * self.size
            if start > self.max_offset:  # beyond any table; the database could not take it
                raise NotFound(f"Page {self.page} is past the last page.")
            # One extra row tells whether a next page exists, without counting the table.
            rows = list(queryset[start : start + self.size + 1])
            self.has_next = len(rows) > self.size
            rows = rows[: self.size]
        elif cursor[0] == "a":  # the page after a row
            rows = list(queryset.filter(_seek(self.terms, cursor[1], False))[: self.size + 1])
            self.has_next = len(rows) > self.size
            rows = rows[: self.size]
        else:  # the page before a row: read backwards, then put it in order
            flipped = [f"{'' if desc else '-'}{name}" for name, desc in self.terms]
            before = queryset.filter(_seek(self.terms, cursor[1], True)).order_by(*flipped)
            rows = list(before[: self.size])[::-1]
            self.has_next = True
        if self.page > 1 and not rows:
            raise NotFound(f"Page {self.page} is past the last page.")
        self.rows = rows
        return rows

    def _cursor(self):
        raw = self.request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            direction, values = json.loads(base64.urlsafe_b64decode(raw.encode()))
        except (ValueError, TypeError, binascii.Error):
            raise ValidationError({self.cursor_query_param: [BAD_CURSOR]}) from None
        if (
            direction not in ("a", "b")
            or self.terms is None
            or not isinstance(values, list)
            or len(values) != len(self.terms)
        ):
            raise ValidationError({self.cursor_query_param: [BAD_CURSOR]})
        return direction, values

    def _edge(self, row, direction: str) -> str | None:
        """The cursor for the page after (a) or before (b) `row`; None if it cannot be keyed."""
        if self.terms is None or row is None:
            return None
        values = [_plain(getattr(row, name, None)) for name, _desc in self.terms]
        if any(value is None for value in values):
            return None
        return base64.urlsafe_b64encode(json.dumps([direction, values]).encode()).decode()

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

    def _link(self, page, cursor=None):
        url = remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        if page == 1:
            return remove_query_param(url, self.page_query_param)
        url = replace_query_param(url, self.page_query_param, page)
        return replace_query_param(url, self.cursor_query_param, cursor) if cursor else url

    def get_paginated_response(self, data):
        rows = self.rows
        following = self._edge(rows[-1], "a") if rows and self.has_next else None
        preceding = self._edge(rows[0], "b") if rows and self.page > 2 else None
        return Response(
            OrderedDict(
                [
                    ("next", self._link(self.page + 1, following) if self.has_next else None),
                    ("previous", self._link(self.page - 1, preceding) if self.page > 1 else None),
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
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link (fast at depth).",
                "schema": {"type": "string"},
            },
        ]
