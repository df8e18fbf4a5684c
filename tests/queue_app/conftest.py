import pytest

from tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory(name="Asha Rao")


@pytest.fixture
def patients(db):
    return PatientFactory.create_batch(5)
