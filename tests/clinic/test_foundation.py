import pytest
from django.contrib.auth.models import Group

from clinic.db import create_with_new_id
from patients.models import Patient


def test_it_creates_the_three_role_groups(roles):
    assert set(Group.objects.values_list("name", flat=True)) >= {"nurse", "doctor", "records"}


def test_records_role_holds_no_clinical_write_permission(records):
    assert records.has_perm("patients.view_patient")
    assert records.has_perm("patients.import_legacy")
    assert not records.has_perm("patients.add_patient")
    assert not records.has_perm("patients.change_note")


def test_nurse_writes_notes_but_not_history_or_oncology(nurse):
    assert nurse.has_perm("patients.add_note")
    assert not nurse.has_perm("patients.add_historyentry")
    assert not nurse.has_perm("oncology.view_episode")


def test_create_with_new_id_draws_again_on_collision(db):
    Patient.objects.create(pk="PAT_TAKEN000", name="First")
    ids = iter(["PAT_TAKEN000", "PAT_FRESH000"])
    patient = create_with_new_id(Patient, lambda: next(ids), name="Second")
    assert patient.pk == "PAT_FRESH000"
    assert Patient.objects.get(pk="PAT_TAKEN000").name == "First"


def test_create_with_new_id_reraises_other_integrity_errors(db):
    from django.db import IntegrityError

    Patient.objects.create(name="First", uhid="123")
    with pytest.raises(IntegrityError):
        create_with_new_id(Patient, lambda: "PAT_NEW00000", name="Second", uhid="123")


def test_migrated_database_grants_permissions_added_by_later_migrations(db):
    # No `roles` fixture: the groups come from the data migration and the post_migrate sync.
    doctor = Group.objects.get(name="doctor")
    assert doctor.permissions.filter(codename="consult_queueentry").exists()
