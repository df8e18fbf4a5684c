"""Settings for bench_api.py: the project's, plus a bare-DRF baseline under /bare/."""

from clinic.settings import *  # noqa: F403

ROOT_URLCONF = "bare_urls"
