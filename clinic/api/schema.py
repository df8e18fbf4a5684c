"""OpenAPI schema that documents the error responses each operation can give."""

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_basic_type, build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from clinic.api.exceptions import ErrorSerializer

ERRORS = {
    "400": "The request body or parameters are invalid; `fields` names each problem.",
    "401": "No valid credentials were sent.",
    "403": "Your role does not allow this.",
    "404": "No such record.",
    "409": "The record's current state does not allow this.",
}


class AutoSchema(SpectacularAutoSchema):
    def get_response_serializers(self):
        # RecordViewSet validates writes with one serializer and answers with the read one.
        if self.method in {"POST", "PUT", "PATCH"} and getattr(
            self.view, "write_serializer_class", None
        ):
            return self.view.serializer_class
        return super().get_response_serializers()

    def _resolve_path_parameters(self, variables):
        parent = getattr(self.view, "parent_model", None)
        if parent is None or "parent_id" not in variables:
            return super()._resolve_path_parameters(variables)
        others = super()._resolve_path_parameters([v for v in variables if v != "parent_id"])
        parent_id = build_parameter_type(
            name="parent_id",
            location=OpenApiParameter.PATH,
            schema=build_basic_type(OpenApiTypes.STR),
            description=f"ID of the {parent._meta.verbose_name}.",
        )
        return [parent_id, *others]

    def _has_query(self) -> bool:
        # Query parameters are checked (a bad date, a bad number): a 400 is possible.
        return any(p.get("in") == "query" for p in self._get_parameters())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403", "404"]  # lists too: a page past the last one is a 404
        if method in {"POST", "PUT", "PATCH"} or self._is_list_view() or self._has_query():
            codes.append("400")
        if method in {"POST", "PUT", "PATCH"}:
            codes.append("409")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERRORS[code]), code
                )
        return responses


class AuditedSessionScheme(SessionScheme):
    target_class = "clinic.api.authentication.AuditedSessionAuthentication"


class AuditedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "clinic.api.authentication.AuditedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` from `POST /api/v1/auth/token/`; tokens expire.",
        }
