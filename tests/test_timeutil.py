"""The JSON form of a time: ISO 8601 in UTC, to the second, ending in Z."""
from datetime import datetime, timedelta, timezone

from app.timeutil import isoformat


def test_a_time_is_written_in_utc_to_the_second():
    assert isoformat(datetime(2026, 12, 8, 1, 2, 3, 999_999, tzinfo=timezone.utc)) == "2026-12-08T01:02:03Z"
    paris = timezone(timedelta(hours=1))
    assert isoformat(datetime(2026, 12, 8, 0, 30, tzinfo=paris)) == "2026-12-07T23:30:00Z"
    assert isoformat(datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "0999-01-02T03:04:05Z"
    assert isoformat(None) is None
