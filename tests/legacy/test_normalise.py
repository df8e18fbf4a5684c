import datetime as dt

import pytest

from legacy import normalise
from legacy.normalise import Rejected

UTC = dt.UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-11-08T09:12:44", dt.datetime(2024, 11, 8, 3, 42, 44, tzinfo=UTC)),  # Kolkata
        ("2024-11-08T09:12:44.123Z", dt.datetime(2024, 11, 8, 9, 12, 44, 123000, tzinfo=UTC)),
        ("2024-11-08 09:12:44+05:30", dt.datetime(2024, 11, 8, 3, 42, 44, tzinfo=UTC)),
        ("2024-01-15", dt.datetime(2024, 1, 14, 18, 30, tzinfo=UTC)),  # local midnight
        (None, None),
        ("", None),
    ],
)
def test_timestamps_follow_the_contract(text, expected):
    assert normalise.timestamp(text, "created_at") == expected


def test_an_unreadable_timestamp_is_rejected_with_the_field_named():
    with pytest.raises(Rejected, match="added_at is not a date or time: 'yesterday'"):
        normalise.timestamp("yesterday", "added_at")


@pytest.mark.parametrize(
    ("given", "code"),
    [("M", "M"), ("male", "M"), ("FEMALE", "F"), ("Female", "F"), ("m", "M"), ("other", "O"),
     ("O", "O"), (None, ""), ("", "")],
)  # fmt: skip
def test_gender_codes(given, code):
    assert normalise.patient({"name": "A", "gender": given}, "PAT_1")["gender"] == code


def test_numbers_where_strings_are_expected_become_their_decimal_string():
    row = normalise.patient({"patient_id": 7, "name": "A", "uhid": 123456789, "phone": 98765})
    assert (row["id"], row["uhid"], row["phone"]) == ("7", "123456789", "98765")


def test_the_map_key_wins_over_the_patient_id_inside():
    assert normalise.patient({"patient_id": "PAT_OTHER", "name": "A"}, "PAT_KEY")["id"] == "PAT_KEY"


def test_age_may_be_a_numeric_string_or_null():
    assert normalise.patient({"name": "A", "age": "44"}, "P")["age"] == 44
    assert normalise.patient({"name": "A", "age": None}, "P")["age"] is None


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"name": "   "}, "the patient has no name"),
        ({"name": "A", "age": "forty"}, "age is not a whole number: 'forty'"),
        ({"name": "A", "age": 131}, "age must be between 0 and 130, not 131"),
        ({"name": "A", "uhid": "12 AB"}, "the UHID '12 AB' is not a hospital number we accept"),
        ({"name": "A", "gender": "x"}, "gender 'x' is not M, F, O, male, female or other"),
        ({"name": ["A"]}, "name should be text, not list"),
    ],
)
def test_patient_rejections_say_why(record, reason):
    with pytest.raises(Rejected) as rejected:
        normalise.patient(record, "PAT_1")
    assert str(rejected.value) == reason


def test_a_patient_without_an_id_is_rejected():
    with pytest.raises(Rejected, match="no patient_id"):
        normalise.patient({"name": "A"})


def test_unknown_fields_go_to_extra_and_missing_timestamps_are_left_out():
    row = normalise.patient({"name": "A", "blood_group": "O-"}, "PAT_1")
    assert row["extra"] == {"blood_group": "O-"}
    assert "created_at" not in row and "updated_at" not in row


QUEUE = {"queue_id": "Q_1", "patient_id": "PAT_1", "token_number": 4, "status": "waiting",
         "added_at": "2024-01-28T23:30:00Z"}  # fmt: skip


def test_a_queue_entry_belongs_to_the_local_day_of_its_arrival():
    row = normalise.queue_entry(QUEUE)
    assert row["day"] == dt.date(2024, 1, 29)  # 05:00 in Kolkata the next morning
    assert (row["priority"], row["started_at"]) == ("normal", None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "teleported"}, "status 'teleported' is not one of"),
        ({"added_at": None}, "has no added_at"),
        ({"token_number": None}, "has no token_number"),
        ({"priority": "asap"}, "priority 'asap' is not one of"),
        ({"patient_id": ""}, "has no patient_id"),
    ],
)
def test_queue_rejections_say_why(change, reason):
    with pytest.raises(Rejected, match=reason):
        normalise.queue_entry(QUEUE | change)


def test_a_note_without_an_id_gets_the_same_derived_id_in_every_file_shape():
    note = {"type": "manual", "content": "Seen", "created_at": "2024-05-24T08:46:48Z"}
    from_map = normalise.note(note, "PAT_1")
    from_array = normalise.note(note | {"patient_id": "PAT_1"})
    assert from_map["id"] == from_array["id"]
    assert from_map["id"].startswith("NOTE_")
    assert normalise.note(note | {"content": "Other"}, "PAT_1")["id"] != from_map["id"]
    assert normalise.note(note | {"note_id": "NOTE_X"}, "PAT_1")["id"] == "NOTE_X"


def test_a_note_type_defaults_from_its_content():
    assert normalise.note({"content": {"plan": "Rest"}}, "P")["type"] == "SOAP"
    assert normalise.note({"content": "free text"}, "P")["type"] == "manual"


def test_history_keeps_unknown_dates_unknown_and_derives_ids():
    row = normalise.history_entry({"patient_id": "P", "type": "visit", "date": "2023-04-15"})
    assert row["created_at"] is None and row["id"].startswith("HIST_")
    with pytest.raises(Rejected, match="type 'surgery' is not one of"):
        normalise.history_entry({"patient_id": "P", "type": "surgery"})


def test_an_episode_keeps_its_arrays_and_mrn_as_they_came():
    legacy = {"_id": "a" * 24, "patient_id": "100000000", "ward": "B2",
              "treatments": [{"treatment_type": "surgery"}]}  # fmt: skip
    row = normalise.episode(legacy)
    assert (row["mrn"], row["embedded_tumours"], row["extra"]) == ("100000000", [], {"ward": "B2"})
    assert row["embedded_treatments"] == [{"treatment_type": "surgery"}]
    with pytest.raises(Rejected, match="NHS number must be 10 digits"):
        normalise.episode({"_id": "a" * 24, "patient_id": "1", "nhs_number": "123"})
