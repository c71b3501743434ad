"""The orders of a thread's pages and their cursors (``pagination``): what comes first, and where the next
page starts."""
from .. import pagination
from ..models import Comment


def order_of(sort: str):
    """(column, descending) pairs; pinned comments come first whatever the sort; ties by id."""
    if sort == "newest":
        return [(Comment.pinned, True), (Comment.created_at, True), (Comment.id, True)]
    if sort == "top":
        return [(Comment.pinned, True), (Comment.score, True), (Comment.created_at, False),
                (Comment.id, False)]
    return [(Comment.pinned, True), (Comment.created_at, False), (Comment.id, False)]


def cursor_values(sort: str, row) -> list:
    """The values of ``row`` (a top of the page) that its page's next cursor holds."""
    if sort == "top":
        return [row.pinned, row.score, row.created_at, row.id]
    return [row.pinned, row.created_at, row.id]


def decode_thread_cursor(sort: str, token: str | None):
    """The position a thread page's cursor names (None: the first page); 400 when it is not one."""
    values = pagination.decode(f"thread-{sort}", token)
    if values is None:
        return None
    expected = 4 if sort == "top" else 3
    if len(values) != expected or not isinstance(values[0], bool) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values[1:]):
        raise pagination.invalid()
    values[-2] = pagination.to_datetime(values[-2])
    return values


def decode_replies_cursor(after: str | None):
    """The position a replies page's cursor names (None: the first page); 400 when it is not one."""
    position = pagination.decode("replies", after)
    if position is not None:
        if len(position) != 2 or not all(isinstance(v, int) for v in position):
            raise pagination.invalid()
        position = [pagination.to_datetime(position[0]), position[1]]
    return position
