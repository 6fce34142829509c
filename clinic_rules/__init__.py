"""BoNTrack clinical decision engine: pure functions over frozen dataclasses.

Public entry points: ``run``, ``list_rules``, ``vocabulary`` (the JSON contract),
``preempt_template`` and ``follow_the_pain_limits`` (head-map data), ``retreatment_interval``
(minimum interval between sessions of an indication, for recall and booking), and the
treatment protocols per indication: ``protocol``, ``protocols``, ``protocols_for``.
"""

from .contract import InputError, list_rules, run, vocabulary
from .intervals import retreatment_interval
from .protocols import Protocol, protocol, protocols, protocols_for
from .vocabulary import follow_the_pain_limits, preempt_template

__all__ = [
    "InputError",
    "Protocol",
    "follow_the_pain_limits",
    "list_rules",
    "preempt_template",
    "protocol",
    "protocols",
    "protocols_for",
    "retreatment_interval",
    "run",
    "vocabulary",
]
