"""factory_boy factories for every domain model."""

import factory
from django.utils import timezone

from oncology.models import Episode, Treatment, Tumour
from patients.models import HistoryEntry, Note, Patient
from patients.services import patient_search_reindex
from queue_app.models import QueueEntry


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    uhid = factory.Sequence(lambda n: str(100000000 + n))
    name = factory.Faker("name")
    age = 42
    gender = Patient.Gender.FEMALE
    phone = "+919876543210"

    @factory.post_generation
    def search_terms(obj, create, extracted, **kwargs):
        # Services keep the search terms; a factory writes past them, so it does the same.
        if create:
            patient_search_reindex(patient_ids=[obj.pk])


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    patient = factory.SubFactory(PatientFactory)
    type = Note.Type.SOAP
    content = factory.LazyFunction(
        lambda: {
            "subjective": "Headache",
            "objective": "BP 120/80",
            "assessment": "Tension",
            "plan": "Rest",
        }
    )
    created_by = "nurse_rekha"


class HistoryEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HistoryEntry

    patient = factory.SubFactory(PatientFactory)
    type = HistoryEntry.Type.PRESCRIPTION
    date = factory.LazyFunction(timezone.now)
    content = factory.LazyFunction(lambda: {"medications": ["Paracetamol 500mg"], "diagnoses": []})
    source = HistoryEntry.Source.MANUAL


class QueueEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueEntry

    patient = factory.SubFactory(PatientFactory)
    patient_name = factory.SelfAttribute("patient.name")
    added_at = factory.LazyFunction(timezone.now)
    day = factory.LazyAttribute(lambda o: timezone.localdate(o.added_at))
    token_number = factory.Sequence(lambda n: n + 1)


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    patient = factory.SubFactory(PatientFactory)
    mrn = factory.SelfAttribute("patient.uhid")
    nhs_number = "4063702051"
    cancer_type = "bowel"
    referral_date = factory.LazyFunction(timezone.now)
    lead_clinician = "Mr Jones"


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Treatment

    episode = factory.SubFactory(EpisodeFactory)
    patient = factory.SelfAttribute("episode.patient")
    treatment_type = Treatment.Type.SURGERY
    treatment_date = factory.LazyFunction(timezone.now)
    treatment_intent = Treatment.Intent.CURATIVE
    provider_organisation = "RGT"


class TumourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tumour

    episode = factory.SubFactory(EpisodeFactory)
    patient = factory.SelfAttribute("episode.patient")
    tumour_type = Tumour.Type.PRIMARY
    site = "sigmoid colon"
    icd10_code = "C18.7"
    snomed_morphology_code = "8140/3"
    tnm_staging = factory.LazyFunction(
        lambda: {"t_stage": "T3", "n_stage": "N1", "m_stage": "M0", "tnm_version": "8"}
    )
    diagnosis_date = factory.LazyFunction(timezone.now)
