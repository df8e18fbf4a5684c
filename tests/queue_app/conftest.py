import pytest

from tests.factories import PatientFactory


@pytest.fixture
def patient(db):
    return PatientFactory(name="Asha Rao")


@pytest.fixture
def patients(db):
    return PatientFactory.create_batch(5)


@pytest.fixture(autouse=True)
def fresh_board_cache():
    # Rolled-back tests reuse version numbers; the cache keys on them.
    from queue_app.api import views

    views._board_cache.clear()
