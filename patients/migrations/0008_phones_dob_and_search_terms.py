"""Existing patients: phones in E.164 where they parse (others stay as written), an estimated
date of birth from the stated age, and the search terms every patient is found by."""

from django.db import migrations

BATCH = 2000


def estimated_birth(created, age):
    day = created.date()
    try:
        return day.replace(year=day.year - age)
    except ValueError:  # born on 29 February
        return day.replace(year=day.year - age, day=28)


def forwards(apps, schema_editor):
    from patients import phones
    from patients.search_terms import patient_terms

    Patient = apps.get_model("patients", "Patient")
    Term = apps.get_model("patients", "PatientSearchTerm")
    fields = ["id", "name", "uhid", "nhs_number", "phone", "age", "date_of_birth", "created_at"]
    last = ""
    while True:
        batch = list(Patient.objects.filter(pk__gt=last).order_by("pk").only(*fields)[:BATCH])
        if not batch:
            return
        terms = []
        for patient in batch:
            changes = {}
            e164 = phones.to_e164(patient.phone)
            if e164 and e164 != patient.phone:
                changes["phone"] = e164
            if patient.date_of_birth is None and patient.age is not None:
                changes["date_of_birth"] = estimated_birth(patient.created_at, patient.age)
                changes["date_of_birth_estimated"] = True
            if changes:
                Patient.objects.filter(pk=patient.pk).update(**changes)
            terms += [
                Term(id=f"{patient.pk}:{term}", patient_id=patient.pk, term=term)
                for term in patient_terms(
                    name=patient.name,
                    uhid=patient.uhid,
                    nhs_number=patient.nhs_number,
                    phone=patient.phone,
                )
            ]
        Term.objects.filter(patient_id__in=[p.pk for p in batch]).delete()
        Term.objects.bulk_create(terms)
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_phone_e164_search_and_merge")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
