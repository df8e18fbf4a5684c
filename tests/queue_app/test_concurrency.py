"""Real parallel processes against a real gunicorn on 127.0.0.1, on this leg's database."""

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pytest

from tests.backend_leg import LEG
from tests.queue_app import http_workers
from tests.queue_app.gunicorn_harness import gunicorn_server

PROCESSES = 8
# secantusdb (the MongoDB leg's server) is far slower than SQLite; keep the race, cut the volume.
PER_PROCESS = 200 if LEG == "sqlite" else 40
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn_server(
        tmp_path_factory.mktemp("gunicorn"), patients=PROCESSES * PER_PROCESS
    ) as s:
        yield {**s, "base": f"{s['url']}/api/v1/queue/"}


def in_parallel(jobs: list) -> list[list]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Manager().Barrier(len(jobs))
    with ProcessPoolExecutor(
        len(jobs), mp_context=context, initializer=http_workers.init, initargs=(barrier,)
    ) as pool:
        return list(pool.map(http_workers.run, jobs))


def test_parallel_desks_never_duplicate_skip_or_lose_a_token(server):
    base, nurse, doctor = server["base"], server["tokens"]["nurse"], server["tokens"]["doctor"]
    patients = server["patients"]
    chunks = [patients[i * PER_PROCESS : (i + 1) * PER_PROCESS] for i in range(PROCESSES)]
    # Every process also tries the first patient of its neighbour: exactly one desk may win.
    jobs = [
        (base, nurse, [("POST", "", {"patient": p}) for p in chunk]
         + [("POST", "", {"patient": chunks[(i + 1) % PROCESSES][0]})])
        for i, chunk in enumerate(chunks)
    ]  # fmt: skip
    results = [r for batch in in_parallel(jobs) for r in batch]
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: PROCESSES * PER_PROCESS, 409: PROCESSES}, statuses
    created = [body for status, body in results if status == 201]
    total = len(created)
    assert sorted(body["token_number"] for body in created) == list(range(1, total + 1))

    # Two desks press "nurse-complete" on every entry at the same moment: one wins each.
    ids = [body["id"] for body in created]
    per = [ids[i::PROCESSES] for i in range(PROCESSES)]
    jobs = [(base, nurse, [("POST", f"{i}/nurse-complete/", None) for i in part]) for part in per]
    jobs += [(base, nurse, [("POST", f"{i}/nurse-complete/", None) for i in part]) for part in per]
    results = [r for batch in in_parallel(jobs) for r in batch]
    assert Counter(status for status, _ in results) == {200: total, 409: total}

    ready = ids[: total // 2]
    in_parallel([(base, nurse, [("POST", f"{i}/ready/", None) for i in ready[k::PROCESSES]])
                 for k in range(PROCESSES)])  # fmt: skip
    # Eight doctors call the next patient until nobody is ready; nobody is called twice.
    # One doctor account stands for all eight, so it may hold several consultations.
    call = [("POST", "call-next", {"room": "1", "allow_second": True})]
    calls = in_parallel([(base, doctor, call * (len(ready) // PROCESSES + 3))
                         for k in range(PROCESSES)])  # fmt: skip
    results = [r for batch in calls for r in batch]
    called = [body["id"] for status, body in results if status == 200]
    assert sorted(called) == sorted(ready)
    assert {status for status, _ in results} == {200, 409}

    state = server["dump"]()
    entries = state["entries"]
    assert len(entries) == total
    assert sorted(e["token_number"] for e in entries) == list(range(1, total + 1))
    assert list(state["counters"].values()) == [total]
    assert Counter(e["status"] for e in entries) == {
        "in_consultation": len(ready), "nurse_completed": total - len(ready),
    }  # fmt: skip
    actions = Counter(action for _, action in state["events"])
    assert actions == {"enqueue": total, "nurse-complete": total, "ready": len(ready),
                       "call-next": len(ready)}  # fmt: skip
