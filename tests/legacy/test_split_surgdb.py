"""The oncology system's episodes through import → split → reverse → export: nothing lost,
nothing invented, every value back with the Extended JSON type it came in."""

import json

import pytest
from django.core.management import CommandError, call_command

from legacy import split
from oncology.models import Episode, Treatment, Tumour
from tests.legacy import surgdb_data as data
from tests.legacy.db_checksum import checksum


@pytest.fixture
def imported(db, tmp_path, migrate):
    """Two patients; the first has two episodes whose items repeat the same IDs."""
    folder = tmp_path / "in"
    folder.mkdir()
    patients = [data.patient(1), data.patient(2, nhs="401 023 2137")]
    second = data.episode(2, "IW000001")
    bare = data.episode(3, "10000002", nhs="4010232137")
    del bare["treatments"], bare["episode_status"], bare["condition_type"]
    bare["tumours"] = []
    episodes = [data.episode(1, "IW000001"), second, bare]
    data.write(folder / "patients.json", patients, "relaxed")
    data.write(folder / "episodes.json", episodes, "canonical")
    code, _, rejects = migrate(folder)
    assert (code, rejects) == (0, [])
    return episodes


def _arrays():
    return {
        pk: (t, u)
        for pk, t, u in Episode.objects.order_by("pk").values_list(
            "pk", "embedded_treatments", "embedded_tumours"
        )
    }


def _export(tmp_path, array=False) -> list[dict]:
    out = tmp_path / ("array" if array else "lines")
    call_command("export_json", str(out), only="episodes", episodes_array=array, verbosity=0)
    text = (out / "episodes.json").read_text()
    from bson import json_util

    return json_util.loads(text) if array else data.load_lines(out / "episodes.json")


def _same_types(exported: list[dict], original: list[dict]) -> None:
    assert [data.canonical(d) for d in exported] == [data.canonical(d) for d in original]


def test_the_same_item_ids_in_two_episodes_of_one_batch_become_two_records(imported):
    out = split.episodes_split_all(batch_size=1000)
    assert out.error_count == 0
    assert Tumour.objects.count() == 2 and Treatment.objects.count() == 2
    repeated = Tumour.objects.exclude(legacy_id="").get()
    assert repeated.legacy_id == "TUM-9434765919-01"
    assert Tumour.objects.filter(pk="TUM-9434765919-01").exists()


def test_the_same_item_ids_across_batches_become_two_records(imported):
    out = split.episodes_split_all(batch_size=1)
    assert out.error_count == 0 and out.warnings["repeated_item_id"] == 2
    assert Tumour.objects.count() == 2 and Treatment.objects.count() == 2


def test_reverse_puts_every_array_back_byte_for_byte(imported):
    before = _arrays()
    split.episodes_split_all(batch_size=1)
    assert not any(t or u for t, u in _arrays().values())
    split.episodes_split_all(reverse=True)
    assert json.dumps(_arrays(), sort_keys=False) == json.dumps(before, sort_keys=False)
    assert not Treatment.objects.exists() and not Tumour.objects.exists()


@pytest.mark.parametrize("array", [False, True])
def test_the_export_gives_every_value_back_with_its_type(imported, tmp_path, array):
    _same_types(_export(tmp_path, array), imported)


def test_the_export_after_a_split_still_holds_every_item(imported, tmp_path):
    split.episodes_split_all()
    _same_types(_export(tmp_path), imported)


def test_nothing_is_invented_and_an_absent_array_stays_absent(imported, tmp_path):
    bare = _export(tmp_path)[2]
    assert "treatments" not in bare and bare["tumours"] == []
    assert "condition_type" not in bare and "episode_status" not in bare


def test_a_batch_that_fails_its_check_is_rolled_back_whole(imported, monkeypatch, tmp_path):
    before = checksum()

    def broken(plan, kept):
        raise split.BatchCheckFailed("a record went missing")

    monkeypatch.setattr(split, "_check_batch", broken)
    with pytest.raises(CommandError) as failure:
        call_command("split_embedded", interactive=False, verbosity=0, report=tmp_path / "r.json")
    assert failure.value.returncode == 3
    assert checksum() == before
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 3


def test_items_name_their_episode_by_either_id(imported):
    episode = Episode.objects.get(legacy_episode_id="EPI-IW000001-01")
    from oncology.selectors import episode_get

    assert episode_get(ref="EPI-IW000001-01") == episode
    assert episode_get(ref=episode.pk) == episode


def test_a_record_can_name_its_episode_by_the_legacy_id_over_the_api(imported, client_as):
    episode = Episode.objects.get(legacy_episode_id="EPI-IW000001-01")
    response = client_as("doctor").post(
        "/api/v1/treatments/",
        {"episode": "EPI-IW000001-01", "treatment_type": "chemotherapy"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["episode"] == episode.pk
    listed = client_as("doctor").get("/api/v1/episodes/?episode_id=EPI-IW000001-01").json()
    assert [e["id"] for e in listed["results"]] == [episode.pk]
    missing = client_as("doctor").post(
        "/api/v1/treatments/",
        {"episode": "EPI-NOPE", "treatment_type": "chemotherapy"},
        format="json",
    )
    assert missing.status_code == 400 and "EPI-NOPE" in str(missing.json())
