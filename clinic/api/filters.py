"""`?ordering=` limited to a view's whitelist, always ending on the primary key; filters."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

NOT_FILTERS = {"page", "page_size", "cursor", "ordering", "format"}


class QuickFilterBackend(DjangoFilterBackend):
    """django-filter builds and validates a form on every request; without any filter in the
    query (a detail, a plain page) there is nothing to filter, so skip that work."""

    def filter_queryset(self, request, queryset, view):
        if set(request.query_params) <= NOT_FILTERS:
            return queryset
        return super().filter_queryset(request, queryset, view)


class StableOrderingFilter(OrderingFilter):
    """Unknown fields are a 400 (not silently ignored); `pk` breaks ties so pages never overlap."""

    def remove_invalid_fields(self, queryset, fields, view, request):
        allowed = {
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        }
        unknown = [term for term in fields if term.lstrip("-") not in allowed]
        if unknown:
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot order by {', '.join(unknown)}; "
                        f"choose from {', '.join(sorted(allowed))}."
                    ]
                }
            )
        return [term for term in fields if term]

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and not {term.lstrip("-") for term in ordering} & {"pk", "id"}:
            ordering.append("pk")
        return ordering

    def get_schema_operation_parameters(self, view):
        fields = [name for name, _label in self.get_valid_fields(view.queryset, view, {})]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by one or more of these fields (comma-separated; a leading "
                f"- sorts descending): {', '.join(fields)}.",
                "schema": {"type": "string"},
            }
        ]
