"""OpenAPI schema that documents the error responses each operation can give."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

from clinic.api.exceptions import ErrorSerializer

ERRORS = {
    "400": "The request body or parameters are invalid; `fields` names each problem.",
    "401": "No valid credentials were sent.",
    "403": "Your role does not allow this.",
    "404": "No such record.",
    "409": "The record's current state does not allow this.",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        codes = ["401", "403"]
        if method != "GET" or self._is_list_view() is False:
            codes.append("404")
        if method in {"POST", "PUT", "PATCH"} or self._is_list_view():
            codes.append("400")
        if method == "POST":
            codes.append("409")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERRORS[code]), code
                )
        return responses
