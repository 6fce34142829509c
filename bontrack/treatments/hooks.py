"""What treatments announces to the apps above it, without importing them.

claims sits above treatments in the layers (CONVENTIONS.md): it registers a receiver here in its
``AppConfig.ready()``; signing and co-signing call ``session_claimable`` inside their own
transaction, so a claim is written (or not) together with the signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# receiver(session, actor): called when a session becomes final and claimable (status signed).
ClaimableReceiver = Callable[[Any, Any], None]

_claimable: list[ClaimableReceiver] = []


def on_claimable(receiver: ClaimableReceiver) -> None:
    """Register a receiver of sessions that just became claimable (signed or co-signed)."""
    if receiver not in _claimable:
        _claimable.append(receiver)


def session_claimable(session: Any, actor: Any) -> None:
    """Tell every receiver that ``session`` is now signed (final); runs in the caller's transaction."""
    for receiver in _claimable:
        receiver(session, actor)
