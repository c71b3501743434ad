"""Moderator notifications (to be written)."""


def on_event(event, comment) -> None:
    """Tell the moderators who want to know that a comment waits for review."""
