"""Base viewsets: list/retrieve/create/update without delete, and nested read-only lists."""

from django.db import models
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from clinic.api.filters import QuickFilterBackend, StableOrderingFilter

WRITE_ACTIONS = {"create", "update", "partial_update"}


class RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Clinical records are never deleted through the API.

    Writes validate with `write_serializer_class`, save through `perform_create` /
    `perform_update` (which call a service and return the object) and answer with the
    read serializer, so clients always get one shape back.
    """

    write_serializer_class = None
    filter_backends = [QuickFilterBackend, StableOrderingFilter]

    def get_serializer_class(self):
        if self.action in WRITE_ACTIONS and self.write_serializer_class is not None:
            return self.write_serializer_class
        return self.serializer_class

    def _answer(self, instance, status_code):
        serializer = self.serializer_class(instance, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(self.perform_create(serializer), status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._answer(self.perform_update(serializer), status.HTTP_200_OK)

    def perform_create(self, serializer):
        return serializer.save()

    def perform_update(self, serializer):
        return serializer.save()


class NestedListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """`/<parents>/{parent_id}/<children>/`: the parent's children, paginated and filterable.

    Permission is checked on the listed model (RolePermission reads the queryset's model);
    an unknown parent is a 404 rather than an empty page.
    """

    parent_model: type[models.Model]
    parent_field: str
    filter_backends = [QuickFilterBackend, StableOrderingFilter]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return queryset.none()
        return queryset.filter(**{self.parent_field: self.kwargs["parent_id"]})

    def list(self, request, *args, **kwargs):
        parent_id = kwargs["parent_id"]
        if not self.parent_model._default_manager.filter(pk=parent_id).exists():
            name = self.parent_model._meta.verbose_name
            raise NotFound(f"No {name} has the ID {parent_id}.")
        return super().list(request, *args, **kwargs)
