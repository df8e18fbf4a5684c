"""The audit log in the admin: the records role reads it, nobody can add, change or delete."""

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.utils import quote
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from patients.models import Patient
from tests.clients import client_for
from tests.factories import PatientFactory

CHANGELIST = "admin:auditlog_logentry_changelist"


def entry_url(name: str, entry: LogEntry) -> str:
    return reverse(f"admin:auditlog_logentry_{name}", args=[quote(entry.pk)])


@pytest.fixture
def entry(db):
    patient = PatientFactory(name="Asha Rao")
    return LogEntry.objects.get_for_object(patient).get()


def test_records_role_lists_and_opens_audit_entries(records, entry):
    client = client_for(records)
    listing = client.get(reverse(CHANGELIST))
    assert listing.status_code == 200
    # Besides the patient's entry: the staff accounts the fixtures created (users are audited).
    listed = listing.context["cl"].result_list
    assert [found.pk for found in listed if found.content_type.model == "patient"] == [entry.pk]
    page = client.get(entry_url("change", entry))
    assert page.status_code == 200
    assert "Asha Rao" in page.content.decode()


@pytest.mark.parametrize("role", ["nurse", "doctor", "no_role"])
def test_clinical_roles_do_not_see_the_audit_log(request, role, entry):
    response = client_for(request.getfixturevalue(role)).get(reverse(CHANGELIST))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["records", "superuser"])
def test_nobody_can_add_change_or_delete_audit_entries(request, role, entry):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    assert client.post(entry_url("change", entry), {"object_repr": "forged"}).status_code == 403
    assert client.get(entry_url("delete", entry)).status_code == 403
    assert client.post(entry_url("delete", entry), {"post": "yes"}).status_code == 403
    listing = client.get(reverse(CHANGELIST))
    assert listing.context["action_form"] is None  # no "delete selected" action either
    assert LogEntry.objects.get(pk=entry.pk).object_repr == entry.object_repr


def test_audit_history_link_filters_to_one_patient(records, entry):
    PatientFactory(name="Someone Else")
    response = client_for(records).get(
        reverse(CHANGELIST),
        {
            "object_pk": entry.object_pk,
            "resource_type": ContentType.objects.get_for_model(Patient).pk,
        },
    )
    assert response.status_code == 200
    assert [found.pk for found in response.context["cl"].result_list] == [entry.pk]


def test_admin_edit_is_audited_with_user_and_address(doctor):
    patient = PatientFactory(name="Asha Rao", uhid="700001")
    response = client_for(doctor).post(
        reverse("admin:patients_patient_change", args=[quote(patient.pk)]),
        {
            "name": "Asha R. Rao",
            "uhid": "700001",
            "age": "34",
            "gender": "F",
            "phone": "",
            **{
                f"{prefix}-{key}": "0"
                for prefix in ("notes", "history", "allergies", "vitals")
                for key in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
        REMOTE_ADDR="10.0.0.7",
    )
    assert response.status_code == 302
    change = LogEntry.objects.get_for_object(patient).filter(action=LogEntry.Action.UPDATE).get()
    assert (change.actor, change.remote_addr) == (doctor, "10.0.0.7")
    assert change.changes_dict["name"] == ["Asha Rao", "Asha R. Rao"]
