"""Webhooks (to be written): endpoints, the calls each event causes, and their delivery."""


def on_event(event, comment) -> None:
    """Queue a call to every enabled endpoint that wants ``event.type``."""


def deliver(worker: str, config, stop) -> int:
    """Deliver a batch of due webhook calls; returns how many were tried."""
    return 0
