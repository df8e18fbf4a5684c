"""Every HTML page has a nonce-based CSP with no inline script; patient data is never cached."""

import re

import pytest
from django.contrib.admin.utils import quote
from django.test import Client
from django.urls import reverse

from tests.clients import client_for
from tests.factories import NoteFactory

pytestmark = pytest.mark.django_db


def pages(patient_id, note_id):
    return [
        "/admin/",
        reverse("admin:patients_patient_changelist"),
        reverse("admin:patients_patient_change", args=[quote(patient_id)]),
        reverse("admin:patients_note_change", args=[quote(note_id)]),
        reverse("patient_timeline", args=[patient_id]),
        "/admin/queue_app/queueentry/board/",
        "/admin/queue_app/queueentry/metrics/",
        "/queue/display/",
        "/api/docs/",
        "/api/v1/patients/?format=api",
    ]


def script_src(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(d for d in policy.split(";") if d.strip().startswith("script-src"))


def test_every_page_has_a_csp_and_each_inline_script_carries_its_nonce(superuser):
    note = NoteFactory()
    client = client_for(superuser)
    nonced = 0
    for url in pages(note.patient_id, note.pk):
        response = client.get(url)
        assert response.status_code == 200, url
        scripts = script_src(response)
        assert "unsafe-inline" not in scripts and "unsafe-eval" not in scripts, url
        html = response.content.decode()
        nonce = re.search(r"'nonce-([^']+)'", scripts)
        for tag in re.findall(r"<script\b[^>]*>", html):
            if "src=" in tag or 'type="application/json"' in tag:
                continue
            assert nonce and f'nonce="{nonce.group(1)}"' in tag, (url, tag)
            nonced += 1
        assert not re.search(r"\son(click|load|submit|change)=", html), url
    assert nonced >= 2  # the board's and the TV display's live-update script


def test_the_api_docs_start_up_script_is_a_file_of_this_site(superuser):
    response = client_for(superuser).get("/api/docs/?script=")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/javascript")


def test_the_login_page_has_the_policy_too():
    response = Client().get("/admin/login/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_api_answers_and_patient_pages_are_not_cached(superuser, client_as):
    note = NoteFactory()
    api = client_as("doctor").get(f"/api/v1/notes/{note.pk}/")
    assert "no-store" in api.headers["Cache-Control"]
    page = client_for(superuser).get(reverse("patient_timeline", args=[note.patient_id]))
    assert "no-store" in page.headers["Cache-Control"]
    assert "no-store" in client_as("anonymous").get("/api/v1/patients/").headers["Cache-Control"]
