"""bench_reads' server settings: BoNTrack's, plus one bare view as the reference (bench only)."""

from bontrack.settings import *  # noqa: F403

ROOT_URLCONF = "readserver.urls"
