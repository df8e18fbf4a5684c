"""The oncology system (`pdsykes2512/surg-db`, "IMPACT"): its patients and its field encryption.

Its patients carry no `name`: `patient_id` (6 hex), the MRN as `record_number` or `mrn`,
`nhs_number` (often `"901 234 5678"`), `demographics` {first_name, last_name, date_of_birth,
age, gender, ethnicity, postcode, …} and `medical_history`. That system encrypts MRN, NHS
number, names, date of birth and postcode at rest (`backend/app/utils/encryption.py`): the
value is `"ENC:"` + urlsafe-base64 of a Fernet token whose key is PBKDF2-HMAC-SHA256 (100,000
iterations, 32 bytes) of the contents of its key file, salted with the contents of its salt
file. Given those two files we decrypt; without them an encrypted value is kept as it came (in
`extra`), never validated or stored in a typed field as if it were the value, and counted.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
from functools import cache

from django.core.exceptions import ValidationError

from clinic.ids import derived_id
from legacy import bulk
from patients.models import Patient, nhs_number_is_valid, validate_uhid

PREFIX = "ENC:"
KEY_FILE_ENV, SALT_FILE_ENV = "LEGACY_ENCRYPTION_KEY_FILE", "LEGACY_ENCRYPTION_SALT_FILE"
# NHS Data Dictionary PERSON STATED GENDER CODE (1 male, 2 female, 9 indeterminate, X not
# known) and the words that system's forms store, onto our M/F/O ("" = not known).
GENDERS = {
    "m": "M", "male": "M", "1": "M", "f": "F", "female": "F", "2": "F",
    "o": "O", "other": "O", "9": "O", "indeterminate": "O",
    "x": "", "0": "", "unknown": "", "not known": "", "not specified": "", "not stated": "",
}  # fmt: skip
# NHS Data Dictionary ETHNIC CATEGORY (2001 census codes), by code or by its words.
ETHNIC_CATEGORIES = {
    "A": "white british", "B": "white irish", "C": "any other white background",
    "D": "white and black caribbean", "E": "white and black african", "F": "white and asian",
    "G": "any other mixed background", "H": "indian", "J": "pakistani", "K": "bangladeshi",
    "L": "any other asian background", "M": "caribbean", "N": "african",
    "P": "any other black background", "R": "chinese", "S": "any other ethnic group",
    "Z": "not stated", "99": "not known",
}  # fmt: skip
_ETHNIC_WORDS = {words: code for code, words in ETHNIC_CATEGORIES.items()} | {
    "white": "A", "british": "A", "irish": "B", "other white": "C", "mixed": "G",
    "asian": "L", "black": "P", "other": "S", "unknown": "99",
}  # fmt: skip
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
SHAPE_KEYS = {"demographics", "mrn", "record_number"}
# Top-level keys our columns hold (the last five only appear in our own export of a patient).
OURS = {"patient_id", "created_at", "updated_at", "uhid", "name", "age", "gender", "phone"}
# Paths whose value that system may have encrypted, for the report.
ENCRYPTABLE = (
    ("record_number",), ("mrn",), ("hospital_number",), ("nhs_number",),
    ("demographics", "first_name"), ("demographics", "last_name"),
    ("demographics", "date_of_birth"), ("demographics", "postcode"),
    ("demographics", "deceased_date"),
)  # fmt: skip


def is_oncology_patient(record) -> bool:
    """That system's shape: `demographics`, or an MRN and no `name` of ours. (Our own export
    of such a patient adds `name`, `uhid`, …: `demographics` still tells.)"""
    if not isinstance(record, dict):
        return False
    return "demographics" in record or ("name" not in record and bool(SHAPE_KEYS & record.keys()))


# --- decryption -------------------------------------------------------------------------------

_secret: dict[str, bytes] = {}


def set_key(*, key: bytes, salt: bytes) -> None:
    """Use that system's key file and salt file contents to decrypt `ENC:` values."""
    _secret.update(key=key, salt=salt)
    _cipher.cache_clear()


def set_key_files(key_file: str, salt_file: str) -> None:
    with open(key_file, "rb") as k, open(salt_file, "rb") as s:
        set_key(key=k.read(), salt=s.read())


def key_from_environment() -> bool:
    key_file, salt_file = os.environ.get(KEY_FILE_ENV), os.environ.get(SALT_FILE_ENV)
    if key_file and salt_file:
        set_key_files(key_file, salt_file)
        return True
    return False


@cache
def _cipher():
    if not _secret:
        return None
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=_secret["salt"], iterations=100_000)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(_secret["key"])))


def encrypt(value: str, cipher=None) -> str:
    """That system's `encrypt_field` (for tests and fixtures)."""
    token = (cipher or _cipher()).encrypt(str(value).encode())
    return PREFIX + base64.urlsafe_b64encode(token).decode()


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def decrypt(value):
    """The plain value, or None for a value still encrypted (no key, or not this key's)."""
    if not is_encrypted(value):
        return value
    cipher = _cipher()
    if cipher is None:
        return None
    from cryptography.fernet import InvalidToken

    try:
        token = base64.urlsafe_b64decode(value[len(PREFIX) :].encode())
        return cipher.decrypt(token).decode()
    except (InvalidToken, ValueError, UnicodeDecodeError):
        return None


# --- patients ---------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value.strip() if isinstance(value, str) else ""


def _plain(value) -> str:
    return _text(decrypt(value))


def _date(value) -> datetime.date | None:
    text = _plain(value)
    try:
        return datetime.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def gender(value) -> str:
    return GENDERS.get(_text(value).lower(), "")


def ethnicity(value) -> str:
    text = _text(value)
    if text.upper() in ETHNIC_CATEGORIES:
        return text.upper()
    words = re.sub(r"[\s_\-–:/,]+", " ", text.lower()).strip()
    return _ETHNIC_WORDS.get(words, "")


def postcode(value) -> str:
    text = re.sub(r"\s+", " ", _plain(value).upper())
    return text if POSTCODE.match(text) else ""


def nhs_number(value) -> str | None:
    digits = re.sub(r"[\s\-]", "", _plain(value))
    return digits if nhs_number_is_valid(digits) else None


def mrn(record: dict) -> str:
    return _plain(record.get("record_number")) or _plain(record.get("mrn"))


def patient(record: dict, *, rejected, timestamp) -> dict:
    """A patient row from that system's document (`rejected` raises, `timestamp` parses)."""
    demo = record.get("demographics") if isinstance(record.get("demographics"), dict) else {}
    number, nhs = mrn(record), nhs_number(record.get("nhs_number"))
    raw_id = _text(record.get("patient_id"))
    anything = (
        raw_id
        or number
        or nhs
        or any(is_encrypted(record.get(k)) for k in ("record_number", "mrn", "nhs_number"))
    )
    if not anything:
        raise rejected("the patient has no patient_id, MRN (record_number/mrn) or NHS number")
    uhid = number or None
    if uhid is not None:
        try:
            validate_uhid(uhid)
        except ValidationError:
            raise rejected(f"the MRN {uhid!r} is not a hospital number we accept") from None
    encrypted_ids = [record.get(k) for k in ("record_number", "mrn", "nhs_number")]
    pk = raw_id or (
        derived_id("PAT", uhid or nhs or next(v for v in encrypted_ids if is_encrypted(v)))
    )
    if len(pk) > Patient._meta.pk.max_length:
        raise rejected(f"the patient_id {pk[:50]!r} is longer than a patient ID")
    name = " ".join(p for p in (_plain(demo.get("first_name")), _plain(demo.get("last_name"))) if p)
    dob = _date(demo.get("date_of_birth"))
    age = demo.get("age")
    age = int(age) if isinstance(age, int | float) and not isinstance(age, bool) else None
    if age is not None and not 0 <= age <= 130:
        age = None
    created = timestamp(record.get("created_at"), "created_at")
    row = {
        "id": pk,
        "uhid": uhid,
        "name": name[:200],
        "age": age,
        "gender": gender(demo.get("gender") or record.get("gender")),
        "phone": _text((record.get("contact") or {}).get("phone"))
        if isinstance(record.get("contact"), dict)
        else "",
        "nhs_number": nhs,
        "date_of_birth": dob,
        "date_of_birth_estimated": False,
        "ethnicity": ethnicity(demo.get("ethnicity")),
        "postcode": postcode(demo.get("postcode")),
        # The document as it came (encrypted values included), less what our columns hold.
        "extra": {
            k: v for k, v in record.items() if k not in OURS or (k == "patient_id" and not raw_id)
        },
    }
    if dob is None and age is not None:
        # Only an age is known: mid-year of the year it implies, flagged as estimated.
        year = (created or datetime.datetime.now(datetime.UTC)).year - age
        row["date_of_birth"], row["date_of_birth_estimated"] = datetime.date(year, 7, 1), True
    if created is not None:
        row["created_at"] = created
    updated = timestamp(record.get("updated_at"), "updated_at")
    if updated is not None:
        row["updated_at"] = updated
    return row


def encrypted_kept(row: dict) -> list[str]:
    """The paths of a row's source whose value is still encrypted (not readable without a key)."""
    extra = row.get("extra") or {}
    kept = []
    for path in ENCRYPTABLE:
        value = extra
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if is_encrypted(value) and decrypt(value) is None:
            kept.append(".".join(path))
    return kept


def owners_by_nhs(numbers: set[str]) -> dict[str, str]:
    """{NHS number: patient ID} of the patients holding them (an episode's last resort)."""
    return bulk.pks_by(Patient, "nhs_number", {n for n in numbers if n})


def is_oncology_row(row: dict) -> bool:
    return "nhs_number" in row and "date_of_birth" in row


def match_existing(rows: list[dict], owners, stored) -> None:
    """Point each oncology row at the clinic patient with its NHS number or MRN, if one exists.

    `owners(attname, values)` gives {value: patient ID}; `stored(pks, fields)` {pk: {field:
    value}}. The registered patient keeps what it holds; the oncology document fills what it
    lacks and is kept whole under `extra["oncology"]`.
    """
    rows = [row for row in rows if is_oncology_row(row)]
    by_nhs = owners("nhs_number", {r["nhs_number"] for r in rows if r["nhs_number"]})
    by_uhid = owners("uhid", {r["uhid"] for r in rows if r["uhid"]})
    matched = {}
    for row in rows:
        owner = by_nhs.get(row["nhs_number"]) or by_uhid.get(row["uhid"])
        if owner and owner != row["id"]:
            matched[id(row)] = owner
    if not matched:
        return
    fields = sorted({k for row in rows for k in row} - {"id", "created_at", "updated_at"})
    held = stored(set(matched.values()), fields)
    for row in rows:
        owner = matched.get(id(row))
        if owner is None:
            continue
        current = held.get(owner, {})
        extra = dict(current.get("extra") or {})
        extra["oncology"] = row["extra"] | {"patient_id": row["id"]}
        for key in fields:
            if key != "extra" and current.get(key) not in (None, "", False):
                row[key] = current[key]
        row["id"], row["extra"] = owner, extra
        row.pop("created_at", None)  # the registered patient's own times stay
        row.pop("updated_at", None)


def prepare_patients(batch: list[tuple], fr, owners, stored) -> None:
    """Before a batch of patients is written: match, settle shared NHS numbers, count secrets."""
    rows = [row for _, row in batch]
    before = {id(row): row["id"] for row in rows}
    match_existing(rows, owners, stored)
    holder: dict[str, str] = {}
    for item, row in batch:
        if not is_oncology_row(row):
            continue
        if row["id"] != before[id(row)]:
            fr.warn(
                "matched_existing_patient",
                item.position,
                before[id(row)],
                f"same NHS number or MRN as clinic patient {row['id']}; merged into it",
            )
        nhs = row["nhs_number"]
        if nhs and holder.setdefault(nhs, row["id"]) != row["id"]:
            row["nhs_number"] = None  # unique: the first holder in the batch keeps it
            fr.warn(
                "nhs_number_shared",
                item.position,
                row["id"],
                f"NHS number {nhs} is also given for patient {holder[nhs]}; kept in extra only",
            )
        kept = encrypted_kept(row)
        if kept:
            fr.warn(
                "encrypted_value_kept",
                item.position,
                row["id"],
                "encrypted by the oncology system and no key to read it (see --legacy-key): "
                + ", ".join(kept)
                + " kept as stored, not used",
                fields=kept,
            )


# --- episodes: how each known field was written -----------------------------------------------

_HEX24 = re.compile(r"^[0-9a-f]{24}$")
EPISODE_DATE_FIELDS = (
    "referral_date", "first_seen_date", "mdt_discussion_date", "created_at", "last_modified_at",
)  # fmt: skip
# Absent from a document, these get a value here (a model default, or "now"): still absent
# on export unless changed to something else.
DEFAULTED = {"condition_type": "cancer", "episode_status": "active"}
TIMES_DEFAULTED = {"created_at", "last_modified_at"}


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite text as the bulk writer stores it
        value = datetime.datetime.fromisoformat(value)
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def episode_forms(row: dict) -> dict:
    """The known fields of an episode document as we write them from its typed columns."""
    pk = row["id"]
    forms = {
        "_id": {"$oid": pk} if _HEX24.match(pk) else pk,
        "episode_id": row.get("legacy_episode_id") or None,
        "patient_id": row.get("mrn") or row.get("patient_id"),
        "nhs_number": row.get("nhs_number") or None,
        "condition_type": row.get("condition_type"),
        "cancer_type": row.get("cancer_type") or None,
        "lead_clinician": row.get("lead_clinician") or None,
        "episode_status": row.get("episode_status"),
    }
    for name in EPISODE_DATE_FIELDS:
        moment = _iso(row.get(name))
        forms[name] = None if moment is None else {"$date": moment}
    return forms


def remember_episode_forms(row: dict, written: dict) -> dict:
    """Note in `extra` each known field written otherwise than we would write it, or absent."""
    memo = {}
    for name, ours in episode_forms(row).items():
        if name not in written:
            memo[name] = [ours]
        elif written[name] != ours:
            memo[name] = [ours, written[name]]
    for name in ("treatments", "tumours"):
        if name not in written:
            memo[name] = []
    row["legacy_forms"] = memo
    return row


def episode_document(row: dict, arrays: dict[str, list]) -> dict:
    """The episode as the oncology system wrote it: known fields in the form they came in
    (unless changed here since), then the arrays, then the unknown fields."""
    extra = row.get("extra") or {}
    memo = row.get("legacy_forms") or {}
    document = {}
    for name, ours in episode_forms(row).items():
        noted = memo.get(name)
        if noted is None:
            document[name] = ours
            if name == "episode_id" and ours is None:
                del document[name]  # documents from before that system had the field
        elif noted[0] == ours or (len(noted) == 1 and _defaulted(name, row)):
            if len(noted) == 2:
                document[name] = noted[1]
        else:
            document[name] = ours
    for name, items in arrays.items():
        if items or memo.get(name) is None:
            document[name] = items
    for key, value in extra.items():
        document.setdefault(key, value)
    return document


def _defaulted(name: str, row: dict) -> bool:
    if name in TIMES_DEFAULTED:
        return True
    return name in DEFAULTED and row.get(name) == DEFAULTED[name]
