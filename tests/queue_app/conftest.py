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


@pytest.fixture(autouse=True)
def live_work_in_the_test_thread(monkeypatch):
    # The live code's database work normally runs on threads of its own; their connections
    # cannot see rows in the test's open transaction. The gunicorn tests run it as served.
    from queue_app import live_hub

    monkeypatch.setattr(live_hub, "RUN_IN_REQUEST_THREAD", True)
