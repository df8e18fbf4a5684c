"""Browser-session clients for admin and page tests."""

from django.test import Client


def client_for(user) -> Client:
    """A test client logged in as `user` (a session, as staff use the admin)."""
    client = Client()
    client.force_login(user)
    return client
