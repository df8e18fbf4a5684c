"""`POST /auth/token/` trades a username and password for a token; logout revokes tokens.

Logins go through Django's `authenticate`, so django-axes counts failures and locks out a
username or an address (429); a success is logged as a login like an admin one.
"""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in, user_logged_out
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.api.exceptions import ErrorSerializer
from clinic.auth import lockout_message, token_create, tokens_revoke
from clinic.otp import otp_required_for, otp_verify

BAD_LOGIN = "Unable to log in with the username and password given."


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="The current code of the user's authenticator app, when two-factor is on.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown once.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When the token lapses.")


def _error(description):
    return OpenApiResponse(ErrorSerializer, description=description)


class TokenView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        request=LoginSerializer,
        responses={
            200: TokenSerializer,
            400: _error("Missing fields, or a wrong username, password or code."),
            429: _error("Too many failed logins for this username or address."),
        },
        auth=[],
    )
    def post(self, request):
        form = LoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data, django_request = form.validated_data, request._request
        user = authenticate(django_request, username=data["username"], password=data["password"])
        if getattr(django_request, "axes_locked_out", False):
            # Our 429 stands: axes' middleware would otherwise swap in its own page.
            django_request.axes_locked_out = False
            raise LockedOut(lockout_message())
        if user is None or not user.is_active:
            raise exceptions.ValidationError({"non_field_errors": [BAD_LOGIN]})
        if otp_required_for(user) and not otp_verify(user=user, code=data.get("otp", "")):
            raise exceptions.ValidationError(
                {"otp": ["This account needs the current code of its authenticator app."]}
            )
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        instance, token = token_create(user=user)
        return Response({"token": token, "expiry": instance.expiry})


class LogoutView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={204: OpenApiResponse(description="The token is revoked.")},
    )
    def post(self, request):
        """Revoke the token this request was sent with (a session logs out instead)."""
        if request.auth is not None and hasattr(request.auth, "digest"):
            request.auth.delete()
        user_logged_out.send(
            sender=request.user.__class__, request=request._request, user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout_all",
        request=None,
        responses={
            200: inline_serializer("RevokedSerializer", {"revoked": serializers.IntegerField()})
        },
    )
    def post(self, request):
        """Revoke every token of the calling user."""
        return Response({"revoked": tokens_revoke(user_id=request.user.pk)})
