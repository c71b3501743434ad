"""Reply notifications (to be written)."""


def on_event(event, comment) -> None:
    """Tell the readers who want to know of a reply, once it is visible to everyone."""
