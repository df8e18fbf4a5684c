"""Admin smoke tests for patients, notes and history, per role; search; inlines; links."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from clinic import admin as clinic_admin
from patients.models import Note
from tests.browser_form import errors_of, submit
from tests.clients import client_for
from tests.factories import HistoryEntryFactory, NoteFactory, PatientFactory

OK, FORBIDDEN = 200, 403
# page -> role -> expected status
PAGES = {
    "patient": {
        "changelist": {"nurse": OK, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
        "change": {"nurse": OK, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
        "add": {"nurse": OK, "doctor": OK, "records": FORBIDDEN, "no_role": FORBIDDEN},
    },
    "note": {
        "changelist": {"nurse": OK, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
        "change": {"nurse": OK, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
        "add": {"nurse": OK, "doctor": OK, "records": FORBIDDEN, "no_role": FORBIDDEN},
    },
    "historyentry": {
        "changelist": {"nurse": OK, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
        "change": {"nurse": OK, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
        "add": {"nurse": FORBIDDEN, "doctor": OK, "records": FORBIDDEN, "no_role": FORBIDDEN},
    },
}
CASES = [
    (model, page, role, status)
    for model, pages in PAGES.items()
    for page, statuses in pages.items()
    for role, status in statuses.items()
]


@pytest.fixture
def history(db):
    return HistoryEntryFactory(patient=NoteFactory().patient)


def admin_url(model: str, page: str, obj=None) -> str:
    args = [quote(obj.pk)] if page == "change" else []  # admin URLs escape "_" in IDs
    return reverse(f"admin:patients_{model}_{page}", args=args)


@pytest.mark.parametrize(("model", "page", "role", "status"), CASES)
def test_each_role_sees_only_what_its_group_allows(request, history, model, page, role, status):
    user = request.getfixturevalue(role)
    obj = {
        "patient": history.patient,
        "historyentry": history,
        "note": history.patient.notes.get(),
    }[model]
    response = client_for(user).get(admin_url(model, page, obj))
    assert response.status_code == status


@pytest.mark.parametrize("model", PAGES)
def test_anonymous_is_sent_to_the_login_page(client, db, model):
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("model", PAGES)
def test_changelist_search_answers_for_a_doctor(doctor, history, model):
    response = client_for(doctor).get(admin_url(model, "changelist"), {"q": "123"})
    assert response.status_code == OK


def search_patients(user, term: str) -> set[str]:
    response = client_for(user).get(admin_url("patient", "changelist"), {"q": term})
    assert response.status_code == OK
    return {patient.pk for patient in response.context["cl"].result_list}


@pytest.mark.parametrize("typed", ["98765 43210", "098765-43210", "+919876543210", "9876543210"])
def test_phone_search_finds_the_number_however_staff_type_it(nurse, typed):
    stored = [
        PatientFactory(phone=phone) for phone in ["+919876543210", "98765 43210", "098765-43210"]
    ]
    PatientFactory(phone="+919999999999")
    assert search_patients(nurse, typed) == {patient.pk for patient in stored}


def test_search_finds_by_uhid_patient_id_and_name_start_in_any_case(nurse):
    rekha = PatientFactory(name="Rekha Sharma", uhid="500123", phone="")
    PatientFactory(name="Ravi Kumar", uhid="500124", phone="")
    assert search_patients(nurse, "500123") == {rekha.pk}
    assert search_patients(nurse, rekha.pk.lower()) == {rekha.pk}
    assert search_patients(nurse, "rekha") == {rekha.pk}
    assert search_patients(nurse, "REKHA SH") == {rekha.pk}
    assert search_patients(nurse, "Sharma") == {rekha.pk}  # any word of the name
    assert search_patients(nurse, "Sharmila") == set()


def test_gender_filter_narrows_the_list(nurse):
    woman = PatientFactory(gender="F")
    PatientFactory(gender="M")
    response = client_for(nurse).get(admin_url("patient", "changelist"), {"gender__exact": "F"})
    assert {patient.pk for patient in response.context["cl"].result_list} == {woman.pk}


def test_changelist_shows_more_than_instead_of_counting_past_the_cap(nurse, monkeypatch):
    monkeypatch.setattr(clinic_admin.CappedCountPaginator, "cap", 2)
    PatientFactory.create_batch(3)
    response = client_for(nurse).get(admin_url("patient", "changelist"))
    assert b"more than 2 patients" in response.content


def inlines_of(response) -> dict[str, object]:
    return {
        inline.opts.model._meta.model_name: inline
        for inline in response.context["inline_admin_formsets"]
    }


def test_nurse_edits_notes_inline_but_only_reads_history(nurse, history):
    response = client_for(nurse).get(admin_url("patient", "change", history.patient))
    inlines = inlines_of(response)
    assert inlines["note"].has_change_permission and inlines["note"].has_add_permission
    assert inlines["historyentry"].has_view_permission
    assert not inlines["historyentry"].has_change_permission
    assert not inlines["historyentry"].has_add_permission


def test_doctor_edits_notes_and_history_inline(doctor, history):
    response = client_for(doctor).get(admin_url("patient", "change", history.patient))
    inlines = inlines_of(response)
    assert inlines["note"].has_change_permission
    assert inlines["historyentry"].has_change_permission


def test_patient_page_links_to_what_the_role_may_see(doctor, nurse, records, history):
    pk = history.patient.pk
    episodes = f'{reverse("admin:oncology_episode_changelist")}?patient__exact={pk}"'
    audit = f"{reverse('admin:auditlog_logentry_changelist')}?object_pk={pk}"
    doctor_page = client_for(doctor).get(admin_url("patient", "change", history.patient))
    assert episodes in doctor_page.content.decode()
    nurse_page = client_for(nurse).get(admin_url("patient", "change", history.patient))
    assert episodes not in nurse_page.content.decode()
    assert audit not in nurse_page.content.decode()
    records_page = client_for(records).get(admin_url("patient", "change", history.patient))
    assert audit in records_page.content.decode()
    timeline = reverse("patient_timeline", args=[pk])
    assert timeline in nurse_page.content.decode()
    assert timeline in doctor_page.content.decode()


def test_notes_changelist_filtered_by_patient_lists_only_theirs(nurse, history):
    NoteFactory()
    response = client_for(nurse).get(
        admin_url("note", "changelist"), {"patient__exact": history.patient.pk}
    )
    assert [note.patient_id for note in response.context["cl"].result_list] == [history.patient.pk]


def test_patient_picker_autocompletes_by_phone(nurse):
    patient = PatientFactory(phone="98765 43210")
    response = client_for(nurse).get(
        reverse("admin:autocomplete"),
        {
            "app_label": "patients",
            "model_name": "note",
            "field_name": "patient",
            "term": "+919876543210",
        },
    )
    assert response.status_code == OK
    assert [result["id"] for result in response.json()["results"]] == [patient.pk]


def test_nurse_adds_a_note_and_is_recorded_as_its_author(nurse):
    patient = PatientFactory()
    response = submit(
        client_for(nurse), admin_url("note", "add"), {"patient": patient.pk, "subjective": "Cough"}
    )
    assert response.status_code == 302, errors_of(response)
    note = Note.objects.get(patient=patient)
    assert (note.created_by, note.content) == ("nurse_rekha", {"subjective": "Cough"})


def test_nurse_registers_a_patient_from_the_add_form(nurse):
    response = client_for(nurse).post(
        admin_url("patient", "add"),
        {
            "name": "Asha Rao",
            "uhid": "700001",
            "age": "34",
            "gender": "F",
            "phone": "98765 43210",
            **empty_inlines(),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert search_patients(nurse, "+919876543210") != set()


def empty_inlines() -> dict[str, str]:
    return {
        f"{prefix}-{key}": value
        for prefix in ("notes", "history", "allergies", "vitals")
        for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
    }


def test_nurse_writes_a_soap_note_in_four_boxes(nurse):
    patient = PatientFactory()
    response = client_for(nurse).post(
        admin_url("note", "add"),
        {
            "patient": patient.pk,
            "type": "SOAP",
            "subjective": "Cough, 3 days",
            "objective": "Temp 38.2 C",
            "assessment": "",
            "plan": "Fluids",
            "content": "",
            "audio_file_url": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    note = Note.objects.get(patient=patient)
    assert note.content == {
        "subjective": "Cough, 3 days",
        "objective": "Temp 38.2 C",
        "plan": "Fluids",
    }


def test_editing_a_soap_box_keeps_the_note_s_other_content(nurse):
    note = NoteFactory(
        content={"subjective": "Headache", "plan": "Rest", "vitals": {"bp": "120/80"}}
    )
    url = admin_url("note", "change", note)
    page = client_for(nurse).get(url)
    form = page.context["adminform"].form
    assert form.initial["subjective"] == "Headache"
    assert "Enter a valid JSON" not in page.content.decode()
    assert 'name="content"' not in page.content.decode()  # raw JSON is read-only
    response = submit(
        client_for(nurse),
        url,
        {"subjective": "Headache, better", "plan": "", "amendment_reason": "Patient re-examined"},
    )
    assert response.status_code == 302, errors_of(response)
    note.refresh_from_db()
    assert note.content == {"subjective": "Headache, better", "vitals": {"bp": "120/80"}}


def test_records_reads_soap_parts_on_a_read_only_note(records):
    note = NoteFactory(content={"subjective": "Chest pain on exertion"})
    page = client_for(records).get(admin_url("note", "change", note))
    assert "Chest pain on exertion" in page.content.decode()
    assert 'name="subjective"' not in page.content.decode()


def admin_index_models(user) -> set[str]:
    response = client_for(user).get(reverse("admin:index"))
    assert response.status_code == OK
    assert response.context["site_header"] == "clinic"
    return {
        f"{app['app_label']}.{model['object_name'].lower()}"
        for app in response.context["app_list"]
        for model in app["models"]
    }


def test_admin_index_lists_only_what_each_role_may_see(nurse, doctor, records):
    clinical = {"patients.patient", "patients.note", "patients.historyentry"}
    oncology = {"oncology.episode", "oncology.treatment", "oncology.tumour"}
    nurse_sees = admin_index_models(nurse)
    assert clinical <= nurse_sees
    assert not (oncology | {"auditlog.logentry", "auth.user"}) & nurse_sees
    doctor_sees = admin_index_models(doctor)
    assert clinical | oncology <= doctor_sees
    assert "auditlog.logentry" not in doctor_sees
    assert clinical | oncology | {"auditlog.logentry"} <= admin_index_models(records)


def test_patient_admin_history_page_opens(nurse, history):
    url = reverse("admin:patients_patient_history", args=[quote(history.patient.pk)])
    assert client_for(nurse).get(url).status_code == OK


def test_nurse_adds_a_note_on_the_patient_page_and_is_its_author(nurse, history):
    patient = history.patient
    note = patient.notes.get()
    response = submit(
        client_for(nurse),
        admin_url("patient", "change", patient),
        {
            "notes-TOTAL_FORMS": "2",
            "notes-1-type": "SOAP",
            "notes-1-subjective": "Dizzy since morning",
            "notes-1-plan": "Review BP",
        },
    )
    assert response.status_code == 302, errors_of(response)
    added = patient.notes.exclude(pk=note.pk).get()
    assert added.created_by == "nurse_rekha"
    assert added.content == {"subjective": "Dizzy since morning", "plan": "Review BP"}
    assert not note.amendments.exists()  # the untouched note is not amended
