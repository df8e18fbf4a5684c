"""seed_demo: one login per role and demo data, the same after any number of runs."""

from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from oncology.models import Episode, Treatment, Tumour
from patients.models import HistoryEntry, Note, Patient
from queue_app.models import DailyTokenCounter, QueueEntry
from tests.factories import QueueEntryFactory

MODELS = [Patient, Note, HistoryEntry, QueueEntry, Episode, Treatment, Tumour]
MORNING = "2026-03-02 11:00:00+05:30"


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
def test_seed_demo_twice_gives_the_same_data_and_prints_the_logins():
    first = seed()
    after_first = counts()
    second = seed()
    assert (
        counts()
        == after_first
        == {
            "Patient": 30,
            "Note": 30,
            "HistoryEntry": 60,
            "QueueEntry": 6,
            "Episode": 3,
            "Treatment": 5,
            "Tumour": 4,
        }
    )
    assert "created now: 0 patients" in second
    for output in (first, second):
        assert "clinic-demo" in output
        for login in ("admin", "nurse", "doctor", "records"):
            assert f"  {login}" in output
    users = get_user_model().objects
    assert users.get(username="nurse").groups.get().name == "nurse"
    assert users.get(username="admin").is_superuser


@pytest.mark.django_db
@time_machine.travel(MORNING, tick=False)
def test_demo_queue_takes_the_tokens_after_those_already_given_today():
    QueueEntryFactory(token_number=1)
    seed()
    today = timezone.localdate()
    demo = QueueEntry.objects.filter(day=today, pk__startswith="Q_260302")
    assert sorted(demo.values_list("token_number", flat=True)) == [2, 3, 4, 5, 6, 7]
    assert DailyTokenCounter.objects.get(day=today).last_token == 7


@pytest.mark.django_db
def test_demo_oncology_is_colorectal_with_staging_and_procedure_codes():
    seed()
    assert set(Tumour.objects.values_list("icd10_code", flat=True)) == {"C20", "C18.7", "C78.7"}
    rectal = Tumour.objects.get(icd10_code="C20")
    assert rectal.tnm_staging["t_stage"] == "T3"
    surgery = Treatment.objects.filter(treatment_type="surgery").order_by("opcs4_code")
    assert [(s.opcs4_code, s.asa_grade) for s in surgery] == [("H33.1", 3), ("H33.4", 2)]
    assert all(t.patient_id == t.episode.patient_id for t in Treatment.objects.all())
