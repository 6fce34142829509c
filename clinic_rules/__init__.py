"""BoNTrack clinical decision engine: pure functions over frozen dataclasses.

Public entry points: ``run``, ``list_rules``, ``vocabulary`` (the JSON contract),
``preempt_template`` and ``follow_the_pain_limits`` (head-map data).
"""

from .contract import InputError, list_rules, run, vocabulary
from .vocabulary import follow_the_pain_limits, preempt_template

__all__ = [
    "InputError",
    "follow_the_pain_limits",
    "list_rules",
    "preempt_template",
    "run",
    "vocabulary",
]
