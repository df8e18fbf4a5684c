"""Episodes, treatments and tumours over the API: every endpoint for every role, shapes, rules."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from oncology.models import Episode, Treatment
from tests.conftest import ROLES
from tests.factories import EpisodeFactory, PatientFactory, TreatmentFactory, TumourFactory

API = "/api/v1"
READERS, WRITERS = {"doctor", "records", "superuser"}, {"doctor", "superuser"}  # nurses: none

# (method, url, payload); {patient}, {episode}, {treatment}, {tumour} come from the world.
ENDPOINTS = [
    ("GET", "/episodes/", None),
    ("GET", "/episodes/{episode}/", None),
    ("POST", "/episodes/", {"patient": "{patient}", "cancer_type": "bowel"}),
    ("PUT", "/episodes/{episode}/", {"patient": "{patient}", "episode_status": "completed"}),
    ("PATCH", "/episodes/{episode}/", {"lead_clinician": "Ms Patel"}),
    ("GET", "/treatments/", None),
    ("GET", "/treatments/{treatment}/", None),
    ("POST", "/treatments/", {"episode": "{episode}", "treatment_type": "chemotherapy"}),
    ("PUT", "/treatments/{treatment}/", {"episode": "{episode}", "treatment_type": "surgery"}),
    ("PATCH", "/treatments/{treatment}/", {"cycles": 6, "regimen": "FOLFOX"}),
    ("GET", "/tumours/", None),
    ("GET", "/tumours/{tumour}/", None),
    ("POST", "/tumours/", {"episode": "{episode}", "tumour_type": "metastasis"}),
    ("PUT", "/tumours/{tumour}/", {"episode": "{episode}", "tumour_type": "primary"}),
    ("PATCH", "/tumours/{tumour}/", {"tnm_staging": {"t_stage": "T4"}}),
    ("GET", "/patients/{patient}/episodes/", None),
    ("GET", "/episodes/{episode}/treatments/", None),
    ("GET", "/episodes/{episode}/tumours/", None),
]


def expected_status(role: str, method: str) -> int:
    if role == "anonymous":
        return 401
    if role not in (READERS if method == "GET" else WRITERS):
        return 403
    return 201 if method == "POST" else 200


def fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def assert_error_shape(response, code=None):
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    if code:
        assert error["code"] == code
    return error


@pytest.fixture
def world(db):
    episode = EpisodeFactory(
        embedded_treatments=[{"treatment_type": "surgery", "note": "legacy, not yet split"}],
        embedded_tumours=[{"tumour_type": "primary"}],
    )
    return SimpleNamespace(
        patient=episode.patient,
        episode=episode,
        treatment=TreatmentFactory(episode=episode),
        tumour=TumourFactory(episode=episode),
    )


def ids_of(world):
    return {name: getattr(world, name).pk for name in ("patient", "episode", "treatment", "tumour")}


@pytest.mark.parametrize(
    ("method", "url", "payload"), ENDPOINTS, ids=[f"{m} {u}" for m, u, _ in ENDPOINTS]
)
def test_each_role_gets_the_status_its_permissions_allow(client_as, world, method, url, payload):
    # All roles in one test: on the MongoDB leg every test pays for a database flush.
    statuses, ids = {}, ids_of(world)
    for role in ROLES:
        send = getattr(client_as(role), method.lower())
        response = send(API + fill(url, ids), fill(payload, ids), format="json")
        statuses[role] = response.status_code
        if response.status_code >= 400:
            assert_error_shape(response)
        elif method == "GET" and not url.endswith("}/"):
            assert isinstance(response.json()["results"], list)
    assert statuses == {role: expected_status(role, method) for role in ROLES}


def test_episode_shows_its_rows_not_the_legacy_embedded_arrays(client_as, world):
    body = client_as("doctor").get(f"{API}/episodes/{world.episode.pk}/").json()
    assert set(body) == {
        "id",
        "patient",
        "mrn",
        "nhs_number",
        "condition_type",
        "cancer_type",
        "referral_date",
        "first_seen_date",
        "mdt_discussion_date",
        "lead_clinician",
        "episode_status",
        "created_at",
        "last_modified_at",
        "treatments",
        "tumours",
    }
    assert [row["id"] for row in body["treatments"]] == [world.treatment.pk]
    assert set(body["treatments"][0]) == {
        "id",
        "treatment_type",
        "treatment_date",
        "treatment_intent",
    }
    assert [(row["id"], row["icd10_code"]) for row in body["tumours"]] == [
        (world.tumour.pk, "C18.7")
    ]


def test_episode_list_loads_children_per_page_not_per_episode(
    client_as, world, django_assert_max_num_queries
):
    for _ in range(4):
        TreatmentFactory.create_batch(2, episode=EpisodeFactory(patient=world.patient))
    client = client_as("doctor")
    client.get(f"{API}/episodes/")  # warm the permission cache of a fresh client's user
    with django_assert_max_num_queries(8):
        results = client.get(f"{API}/episodes/").json()["results"]
    assert sorted(len(row["treatments"]) for row in results) == [1, 2, 2, 2, 2]


def test_created_episode_gets_an_objectid_shaped_id_and_the_patients_mrn(client_as, world):
    response = client_as("doctor").post(
        f"{API}/episodes/",
        {
            "patient": world.patient.pk,
            "cancer_type": "bowel",
            "nhs_number": "4063702051",
            "referral_date": "2024-12-22T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body["id"]) == 24 and int(body["id"], 16) >= 0
    assert (body["mrn"], body["episode_status"], body["treatments"]) == (
        world.patient.uhid,
        "active",
        [],
    )


def test_bad_episode_input_is_a_400_naming_the_field(client_as, world):
    cases = [
        ({"cancer_type": "bowel"}, "patient"),
        ({"patient": "PAT_GHOST000"}, "patient"),
        ({"patient": world.patient.pk, "nhs_number": "123"}, "nhs_number"),
        ({"patient": world.patient.pk, "episode_status": "paused"}, "episode_status"),
        ({"patient": world.patient.pk, "referral_date": "soon"}, "referral_date"),
    ]
    client, seen = client_as("doctor"), []
    for payload, _field in cases:
        response = client.post(f"{API}/episodes/", payload, format="json")
        seen.append((response.status_code, list(assert_error_shape(response, "invalid")["fields"])))
    assert seen == [(400, [field]) for _payload, field in cases]


def test_an_episode_cannot_be_moved_to_another_patient(client_as, world):
    response = client_as("doctor").patch(
        f"{API}/episodes/{world.episode.pk}/", {"patient": PatientFactory().pk}, format="json"
    )
    assert response.status_code == 400
    assert assert_error_shape(response)["fields"]["patient"] == [
        "An episode stays with its patient."
    ]


def test_episode_update_stamps_last_modified(client_as, world, time_machine):
    time_machine.move_to("2031-05-06 08:00:00+00:00", tick=False)
    response = client_as("doctor").patch(
        f"{API}/episodes/{world.episode.pk}/", {"episode_status": "completed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["last_modified_at"].startswith("2031-05-06")


def test_treatment_takes_its_patient_from_the_episode(client_as, world):
    response = client_as("doctor").post(
        f"{API}/treatments/",
        {
            "episode": world.episode.pk,
            "treatment_type": "radiotherapy",
            "dose_gy": 45.0,
            "fractions": 25,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"].startswith("TRT_")
    assert (body["patient"], body["dose_gy"]) == (world.patient.pk, 45.0)


def test_treatment_or_tumour_for_another_patient_than_the_episodes_is_refused(client_as, world):
    stranger = PatientFactory().pk
    client = client_as("doctor")
    for url, payload in [
        ("/treatments/", {"treatment_type": "surgery"}),
        ("/tumours/", {"tumour_type": "primary"}),
    ]:
        response = client.post(
            API + url,
            {"episode": world.episode.pk, "patient": stranger, **payload},
            format="json",
        )
        assert response.status_code == 400
        message = assert_error_shape(response)["fields"]["patient"][0]
        assert message == (
            f"Episode {world.episode.pk} belongs to patient {world.patient.pk}, not {stranger}."
        )
    assert Treatment.objects.count() == 1


def test_bad_treatment_and_tumour_input_is_a_400_naming_the_field(client_as, world):
    episode = world.episode.pk
    cases = [
        ("/treatments/", {"treatment_type": "surgery"}, "episode"),
        (
            "/treatments/",
            {"episode": "ffffffffffffffffffffffff", "treatment_type": "surgery"},
            "episode",
        ),
        ("/treatments/", {"episode": episode, "treatment_type": "magic"}, "treatment_type"),
        (
            "/treatments/",
            {"episode": episode, "treatment_type": "surgery", "asa_grade": 9},
            "asa_grade",
        ),
        ("/tumours/", {"episode": episode, "tumour_type": "benign"}, "tumour_type"),
        (
            "/tumours/",
            {"episode": episode, "tumour_type": "primary", "icd10_code": "colon"},
            "icd10_code",
        ),
        (
            "/tumours/",
            {"episode": episode, "tumour_type": "primary", "tnm_staging": "T3N1"},
            "tnm_staging",
        ),
    ]
    client, seen = client_as("doctor"), []
    for url, payload, _field in cases:
        response = client.post(API + url, payload, format="json")
        seen.append((response.status_code, list(assert_error_shape(response, "invalid")["fields"])))
    assert seen == [(400, [field]) for _url, _payload, field in cases]


def test_a_treatment_stays_with_its_episode(client_as, world):
    other = EpisodeFactory(patient=world.patient)
    response = client_as("doctor").patch(
        f"{API}/treatments/{world.treatment.pk}/", {"episode": other.pk}, format="json"
    )
    assert response.status_code == 400
    assert "episode" in assert_error_shape(response)["fields"]


def test_filters_narrow_each_list(client_as, world):
    old = EpisodeFactory(
        episode_status=Episode.Status.COMPLETED,
        referral_date=timezone.now() - timezone.timedelta(days=800),
    )
    chemo = TreatmentFactory(episode=old, treatment_type=Treatment.Type.CHEMOTHERAPY)
    TumourFactory(episode=old, icd10_code="C20")
    client = client_as("records")

    def listed(url, **params):
        response = client.get(API + url, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    since = (timezone.localdate() - timezone.timedelta(days=30)).isoformat()
    assert listed("/episodes/", status="completed") == [old.pk]
    assert listed("/episodes/", patient=world.patient.pk) == [world.episode.pk]
    assert listed("/episodes/", referral_after=since) == [world.episode.pk]
    assert listed("/treatments/", type="chemotherapy") == [chemo.pk]
    assert listed("/treatments/", episode=world.episode.pk) == [world.treatment.pk]
    assert listed("/tumours/", icd10_code="C18.7") == [world.tumour.pk]
    assert listed("/episodes/", ordering="referral_date") == [old.pk, world.episode.pk]


def test_nested_routes_list_only_the_parents_rows(client_as, world):
    other = EpisodeFactory()
    TreatmentFactory(episode=other)
    TumourFactory(episode=other)
    client = client_as("doctor")

    def listed(url):
        return [row["id"] for row in client.get(API + url).json()["results"]]

    assert listed(f"/patients/{world.patient.pk}/episodes/") == [world.episode.pk]
    assert listed(f"/episodes/{world.episode.pk}/treatments/") == [world.treatment.pk]
    assert listed(f"/episodes/{world.episode.pk}/tumours/") == [world.tumour.pk]
    for url in (
        "/patients/PAT_NOPE0000/episodes/",
        "/episodes/nope/treatments/",
        "/episodes/nope/tumours/",
    ):
        response = client.get(API + url)
        assert response.status_code == 404
        assert_error_shape(response, "not_found")
