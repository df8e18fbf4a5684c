import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "clinic" / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded_out_of_the_collectors_reach():
    conf = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0
    try:
        conf["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
