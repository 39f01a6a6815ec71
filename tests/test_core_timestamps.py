"""``store.iso_millis`` / ``epoch_millis`` are cached fast forms of the datetime formatting the
APIs used before: same text for any instant."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.store import epoch_millis, iso_millis


@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_iso_millis_matches_strftime(ms: int) -> None:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    assert iso_millis(ms) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_epoch_millis_truncates_like_datetime(timestamp: float) -> None:
    expected = datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert iso_millis(epoch_millis(timestamp)) == expected


def test_a_microsecond_before_the_second_rounds_up() -> None:
    assert iso_millis(epoch_millis(1700000000.9999996)) == "2023-11-14T22:13:21.000Z"
