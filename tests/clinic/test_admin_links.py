"""Admin links built from record IDs lead to the record, whatever characters the ID holds."""

import re

import pytest
from django.urls import reverse

from tests.clients import client_for
from tests.factories import NoteFactory, PatientFactory

# `_4A` reads as an admin escape; `/`, `?`, `#`, space and `%` break a path built by hand.
AWKWARD_IDS = ["NOTE_4A_5F", "NOTE_a/b", "NOTE_x?y#z", "NOTE_50% off"]


@pytest.mark.parametrize("note_id", AWKWARD_IDS)
def test_timeline_links_open_the_note_whatever_its_id(doctor, note_id):
    note = NoteFactory(id=note_id)
    client = client_for(doctor)
    page = client.get(reverse("patient_timeline", args=[note.patient_id]))
    assert page.status_code == 200
    links = re.findall(r'href="(/admin/patients/note/[^"]+/change/)"', page.content.decode())
    assert len(links) == 1
    opened = client.get(links[0].replace("&amp;", "&"))
    assert opened.status_code == 200
    assert opened.context["original"].pk == note_id


@pytest.mark.parametrize("patient_id", ["PAT_4A_5F", "PAT_a/b"])
def test_patient_page_and_its_timeline_open_whatever_the_id(doctor, patient_id):
    PatientFactory(id=patient_id)
    client = client_for(doctor)
    page = client.get(reverse("admin:patients_patient_change", args=[_quote(patient_id)]))
    assert page.status_code == 200
    timeline = re.search(r'href="([^"]+/timeline/)"', page.content.decode()).group(1)
    assert client.get(timeline).context["patient"].pk == patient_id


def _quote(pk):
    from django.contrib.admin.utils import quote

    return quote(pk)
