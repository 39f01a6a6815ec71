"""Invariants over sequences of messages and events, with failures that name the endpoint
and the field: every accepted message readable exactly once, and in the documented order."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence


class InvariantFailure(AssertionError):
    def __init__(self, endpoint_id: str, field: str, problem: str) -> None:
        self.endpoint_id = endpoint_id
        self.field = field
        super().__init__(f"{endpoint_id}: {field}: {problem}")


def readable_exactly_once(endpoint_id: str, field: str, accepted: Sequence[str], read: Sequence[str]) -> None:
    """Each accepted id appears in ``read`` exactly once."""
    counts = Counter(read)
    missing = [item for item in accepted if counts[item] == 0]
    if missing:
        raise InvariantFailure(endpoint_id, field, f"accepted message {missing[0]!r} is missing (of {len(missing)} missing)")
    repeated = [item for item in accepted if counts[item] > 1]
    if repeated:
        raise InvariantFailure(endpoint_id, field, f"message {repeated[0]!r} is listed {counts[repeated[0]]} times")


def in_order(endpoint_id: str, field: str, expected: Sequence[str], read: Sequence[str]) -> None:
    """The ids of ``expected`` appear in ``read`` in the same relative order."""
    position = {item: index for index, item in enumerate(read)}
    present = [item for item in expected if item in position]
    for earlier, later in itertools.pairwise(present):
        if position[earlier] > position[later]:
            raise InvariantFailure(endpoint_id, field, f"{later!r} comes before {earlier!r}, against the documented order")
