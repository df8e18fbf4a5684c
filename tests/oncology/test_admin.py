"""Admin smoke tests for episodes, treatments and tumours, per role; inlines; read-only legacy."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse

from oncology.models import Treatment
from tests.clients import client_for
from tests.factories import EpisodeFactory, TreatmentFactory, TumourFactory

OK, FORBIDDEN = 200, 403
EXPECTED = {
    "changelist": {"nurse": FORBIDDEN, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
    "change": {"nurse": FORBIDDEN, "doctor": OK, "records": OK, "no_role": FORBIDDEN},
    "add": {"nurse": FORBIDDEN, "doctor": OK, "records": FORBIDDEN, "no_role": FORBIDDEN},
}
MODELS = ["episode", "treatment", "tumour"]
CASES = [
    (model, page, role, status)
    for model in MODELS
    for page, statuses in EXPECTED.items()
    for role, status in statuses.items()
]


@pytest.fixture
def episode(db):
    episode = EpisodeFactory(embedded_treatments=[{"treatment_type": "surgery"}])
    TreatmentFactory(episode=episode, opcs4_code="H33.4", asa_grade=2)
    TumourFactory(episode=episode)
    return episode


def admin_url(model: str, page: str, obj=None) -> str:
    args = [quote(obj.pk)] if page == "change" else []  # admin URLs escape "_" in IDs
    return reverse(f"admin:oncology_{model}_{page}", args=args)


@pytest.mark.parametrize(("model", "page", "role", "status"), CASES)
def test_each_role_sees_only_what_its_group_allows(request, episode, model, page, role, status):
    user = request.getfixturevalue(role)
    obj = {
        "episode": episode,
        "treatment": episode.treatments.get(),
        "tumour": episode.tumours.get(),
    }[model]
    response = client_for(user).get(admin_url(model, page, obj))
    assert response.status_code == status


@pytest.mark.parametrize("model", MODELS)
def test_changelist_search_answers(doctor, episode, model):
    response = client_for(doctor).get(admin_url(model, "changelist"), {"q": episode.mrn})
    assert response.status_code == OK
    assert len(response.context["cl"].result_list) == 1


def test_episode_filters_by_status_and_cancer_type(doctor, episode):
    EpisodeFactory(episode_status="completed", cancer_type="breast")
    response = client_for(doctor).get(
        admin_url("episode", "changelist"),
        {"episode_status__exact": "active", "cancer_type": "bowel"},
    )
    assert [found.pk for found in response.context["cl"].result_list] == [episode.pk]


def test_episode_page_has_treatment_and_tumour_inlines_and_no_editable_legacy_arrays(
    doctor, episode
):
    response = client_for(doctor).get(admin_url("episode", "change", episode))
    inlines = {
        inline.opts.model._meta.model_name for inline in response.context["inline_admin_formsets"]
    }
    assert inlines == {"treatment", "tumour"}
    form_fields = response.context["adminform"].form.fields
    assert "embedded_treatments" not in form_fields
    assert "embedded_tumours" not in form_fields
    assert "1 treatments, 0 tumours" in response.content.decode()


def episode_form_adding(episode, treatment: dict[str, str]) -> dict[str, str]:
    """The episode change form as posted, with one new treatment row in the inline."""
    return {
        **formset("treatments", existing=episode.treatments.all()),
        **formset("tumours", existing=episode.tumours.all()),
        "treatments-TOTAL_FORMS": "2",
        **{f"treatments-1-{name}": value for name, value in treatment.items()},
        "patient": episode.patient_id,
        "mrn": episode.mrn,
        "nhs_number": episode.nhs_number,
        "condition_type": "cancer",
        "cancer_type": "bowel",
        "episode_status": "active",
        "lead_clinician": "Mr Jones",
    }


def test_doctor_adds_a_treatment_inline_and_it_carries_the_episode_patient(doctor, episode):
    data = episode_form_adding(
        episode,
        {
            "treatment_type": "chemotherapy",
            "treatment_intent": "curative",
            "regimen": "CAPOX",
            "cycles": "8",
        },
    )
    response = client_for(doctor).post(admin_url("episode", "change", episode), data)
    assert response.status_code == 302, response.context["errors"]
    chemo = Treatment.objects.get(episode=episode, treatment_type="chemotherapy")
    assert (chemo.patient_id, chemo.cycles) == (episode.patient_id, 8)


def test_an_asa_grade_outside_1_to_6_is_refused_and_nothing_is_saved(doctor, episode):
    data = episode_form_adding(episode, {"treatment_type": "surgery", "asa_grade": "9"})
    response = client_for(doctor).post(admin_url("episode", "change", episode), data)
    assert response.status_code == 200
    assert "ASA grade is a whole number from 1 to 6." in response.content.decode()
    assert episode.treatments.count() == 1


def formset(prefix: str, existing) -> dict[str, str]:
    rows = list(existing)
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(len(rows))}
    for index, row in enumerate(rows):
        data[f"{prefix}-{index}-id"] = row.pk
        data[f"{prefix}-{index}-episode"] = row.episode_id
        for field in ("treatment_type", "tumour_type", "treatment_intent", "site", "icd10_code"):
            if hasattr(row, field):
                data[f"{prefix}-{index}-{field}"] = getattr(row, field)
        for field in ("tnm_staging", "pathology"):
            if hasattr(row, field):
                data[f"{prefix}-{index}-{field}"] = "{}"
    return data


def test_patient_picker_on_episodes_is_an_autocomplete(doctor, episode):
    response = client_for(doctor).get(admin_url("episode", "add"))
    assert "admin-autocomplete" in response.content.decode()


def tumour_url(tumour) -> str:
    from django.contrib.admin.utils import quote

    return reverse("admin:oncology_tumour_change", args=[quote(tumour.pk)])


def test_doctor_stages_a_tumour_in_fields_not_json(doctor):
    from tests.browser_form import errors_of, submit
    from tests.factories import TumourFactory

    tumour = TumourFactory(
        tnm_staging={"t_stage": "T3", "tnm_version": "8", "clinical_t": "cT3"},
        pathology={"lymph_nodes_examined": 12, "grade": "G2"},
    )
    page = client_for(doctor).get(tumour_url(tumour)).content.decode()
    assert 'name="tnm_staging"' not in page and 'name="pathology"' not in page
    assert "clinical_t" in page  # other keys: shown read-only
    response = submit(
        client_for(doctor),
        tumour_url(tumour),
        {"n_stage": "N1", "m_stage": "M0", "lymph_nodes_positive": "2", "crm_status": "clear"},
    )
    assert response.status_code == 302, errors_of(response)
    tumour.refresh_from_db()
    assert tumour.tnm_staging == {
        "t_stage": "T3", "n_stage": "N1", "m_stage": "M0", "tnm_version": "8", "clinical_t": "cT3",
    }  # fmt: skip
    assert tumour.pathology == {"lymph_nodes_examined": 12, "lymph_nodes_positive": 2,
                                "grade": "G2", "crm_status": "clear"}  # fmt: skip


def test_an_impossible_stage_or_node_count_is_refused_with_a_message(doctor):
    from tests.browser_form import submit
    from tests.factories import TumourFactory

    tumour = TumourFactory(pathology={"lymph_nodes_examined": 4})
    response = submit(
        client_for(doctor), tumour_url(tumour), {"t_stage": "T9", "lymph_nodes_positive": "9"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "is not a T category" in html and "More positive nodes than nodes examined." in html
    tumour.refresh_from_db()
    assert tumour.pathology == {"lymph_nodes_examined": 4}
