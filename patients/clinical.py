"""Structured clinical content: medication lines, coded diagnoses and lab results.

A history entry's `content` keeps the legacy shape (`medications` and `diagnoses` as lists of
strings, `doctor`, `notes`, any other key) and also takes structured items:
`{"drug", "dose", "route", "frequency", "duration"}` for a medication,
`{"name", "icd10_code"}` for a diagnosis and `{"test", "value", "unit", "reference_range"}` for a
lab result. Staff type a medication the way they write it ("Tab Metformin 500mg BD x 30 days");
`parse_medication` splits it into those parts.
"""

import re

from django.core.exceptions import ValidationError

MEDICATION_PARTS = ("drug", "dose", "route", "frequency", "duration")
DIAGNOSIS_PARTS = ("name", "icd10_code")
LAB_PARTS = ("test", "value", "unit", "reference_range")
LIST_KEYS = {"medications": MEDICATION_PARTS, "diagnoses": DIAGNOSIS_PARTS,
             "lab_results": LAB_PARTS}  # fmt: skip
REQUIRED_PART = {"medications": "drug", "diagnoses": "name", "lab_results": "test"}
ITEM_NAME = {"medications": "medication", "diagnoses": "diagnosis", "lab_results": "lab result"}

# A three-character category (A00–Z99), optionally a dot and up to four more characters.
ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
FORMS = {"tab": "oral", "tablet": "oral", "cap": "oral", "capsule": "oral", "syp": "oral",
         "syrup": "oral", "susp": "oral", "inj": "injection", "injection": "injection",
         "oint": "topical", "cream": "topical", "gel": "topical", "drops": "drops",
         "inh": "inhaled", "neb": "nebulised", "supp": "rectal"}  # fmt: skip
ROUTES = {"po": "oral", "oral": "oral", "iv": "IV", "im": "IM", "sc": "SC", "sl": "sublingual",
          "topical": "topical", "pr": "rectal", "inhaled": "inhaled"}  # fmt: skip
FREQUENCIES = {"od", "bd", "bid", "tds", "tid", "qid", "qds", "hs", "sos", "prn", "stat", "qhs",
               "q4h", "q6h", "q8h", "q12h", "weekly", "daily", "nocte", "mane"}  # fmt: skip
DOSE = re.compile(r"^\d+(\.\d+)?(/\d+(\.\d+)?)?\s*(mg|g|mcg|µg|ug|ml|iu|units?|%|puffs?)$", re.I)
DURATION = re.compile(
    r"(?:\bx|\bfor|×)\s*(\d+\s*(?:days?|d|weeks?|wks?|w|months?|m))\b\.?\s*$", re.I
)


def parse_medication(text: str) -> dict[str, str]:
    """'Tab Metformin 500mg BD x 30 days' -> drug Metformin, dose 500mg, route oral, BD, 30 days."""
    text = " ".join(text.split())
    found = {part: "" for part in MEDICATION_PARTS}
    duration = DURATION.search(text)
    if duration:
        found["duration"] = duration.group(1)
        text = text[: duration.start()].strip()
    drug = []
    words = text.split(" ")
    for index, word in enumerate(words):
        lower = word.lower().strip(".,")
        if index == 0 and lower in FORMS:
            found["route"] = FORMS[lower]
        elif lower in ROUTES and drug:
            found["route"] = ROUTES[lower]
        elif lower in FREQUENCIES and drug:
            found["frequency"] = word.upper() if len(word) <= 4 else word
        elif DOSE.match(word) and drug and not found["dose"]:
            found["dose"] = word
        elif (
            index + 1 < len(words)
            and re.fullmatch(r"\d+(\.\d+)?", word)
            and DOSE.match(word + words[index + 1])
            and drug
            and not found["dose"]
        ):
            found["dose"] = f"{word} {words[index + 1]}"
            words[index + 1] = ""
        elif word:
            drug.append(word)
    found["drug"] = " ".join(drug)
    return found


def medication_text(item) -> str:
    """One medication as staff read it, whichever shape it is stored in."""
    if not isinstance(item, dict):
        return str(item)
    text = " ".join(str(item.get(part) or "") for part in ("drug", "dose", "route", "frequency"))
    text = " ".join(text.split())
    return f"{text} x {item['duration']}" if item.get("duration") else text


def item_text(key: str, item) -> str:
    if key == "medications":
        return medication_text(item)
    if not isinstance(item, dict):
        return str(item)
    if key == "diagnoses":
        code = item.get("icd10_code")
        return f"{item.get('name', '')} ({code})" if code else str(item.get("name", ""))
    parts = [item.get("test", ""), item.get("value", ""), item.get("unit", "")]
    text = " ".join(str(p) for p in parts if p not in (None, ""))
    return f"{text} (ref {item['reference_range']})" if item.get("reference_range") else text


def normalise_icd10(code: str) -> str:
    return (code or "").strip().upper().replace(" ", "")


def check_item(key: str, item, position: int) -> str | None:
    """None when the item is a legacy string or a well-formed structured item, else the problem."""
    label = f"{ITEM_NAME[key].capitalize()} {position}"
    if isinstance(item, str):
        return None if item.strip() else f"{label} is empty."
    if not isinstance(item, dict):
        return f"{label} must be text or an object with {', '.join(LIST_KEYS[key])}."
    required = REQUIRED_PART[key]
    if not str(item.get(required) or "").strip():
        return f"{label} needs a {required.replace('_', ' ')}."
    for part in LIST_KEYS[key]:
        value = item.get(part)
        if value is not None and not isinstance(value, str | int | float):
            return f"{label}: {part.replace('_', ' ')} must be text."
    code = item.get("icd10_code")
    if key == "diagnoses" and code and not ICD10.match(normalise_icd10(str(code))):
        return f"{label}: {code!r} is not an ICD-10 code (a letter, two digits, e.g. E11.9)."
    return None


def validate_history_content(content: dict) -> dict:
    """The content with ICD-10 codes upper-cased; ValidationError listing every bad item."""
    problems = []
    for key in LIST_KEYS:
        items = content.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(f"{key} must be a list.")
            continue
        problems += [p for i, item in enumerate(items, 1) if (p := check_item(key, item, i))]
        if key == "diagnoses":
            for item in items:
                if isinstance(item, dict) and item.get("icd10_code"):
                    item["icd10_code"] = normalise_icd10(str(item["icd10_code"]))
    for key in ("doctor", "notes"):
        if key in content and not isinstance(content[key], str | None):
            problems.append(f"{key} must be text.")
    if problems:
        raise ValidationError(problems)
    return content
