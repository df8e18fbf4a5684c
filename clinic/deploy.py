"""What counts as a production configuration (docs/install.md), for commands that must refuse."""

import os

from django.conf import settings

# "testserver" is the name Django's test client uses.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1", "testserver"}


def is_production_configuration() -> bool:
    """DEBUG off and answering to a real host name or redirecting to HTTPS."""
    if settings.DEBUG:
        return False
    public_hosts = set(settings.ALLOWED_HOSTS) - LOCAL_HOSTS
    return bool(public_hosts) or settings.SECURE_SSL_REDIRECT


def demo_logins_allowed() -> bool:
    """Demo logins (a published password) only on a local trial, or when explicitly told."""
    told = os.environ.get("SEED_DEMO_ON_PRODUCTION", "").lower() in {"1", "true", "yes", "on"}
    return told or not is_production_configuration()
