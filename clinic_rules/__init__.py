"""BoNTrack clinical decision engine: pure functions over frozen dataclasses.

Public entry points: ``run``, ``list_rules``, ``vocabulary`` (the JSON contract),
``preempt_template`` and ``follow_the_pain_limits`` (head-map data), ``retreatment_interval``
(minimum interval between sessions of an indication, for recall and booking).
"""

from .contract import InputError, list_rules, run, vocabulary
from .intervals import retreatment_interval
from .vocabulary import follow_the_pain_limits, preempt_template

__all__ = [
    "InputError",
    "follow_the_pain_limits",
    "list_rules",
    "preempt_template",
    "retreatment_interval",
    "run",
    "vocabulary",
]
