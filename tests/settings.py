"""Settings for the test harness: production settings plus what only our test server needs."""

from clinic.settings import *  # noqa: F403
from clinic.settings import INSTALLED_APPS, IS_MONGODB

if IS_MONGODB:
    # secantusdb reads two of the backend's pipeline forms differently from MongoDB
    # (tests/mongo_compat.py); production runs the official backend unpatched.
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.mongo_compat_app.MongoCompatConfig"]
