"""Ids and tokens of Gitter's default world (mockserver/apis/gitter/world.json), for the Gitter
tests: one list, so a change of the world is one change here."""

from __future__ import annotations

ALICE_TOKEN = "gitter-token-alice"
BOB_TOKEN = "gitter-token-bob"
ALICE_ID = "5f1a11ce0000000000000001"
BOB_ID = "5f1b0b000000000000000002"
ONE_TO_ONE = "5f2000000000000000000001"  # alice and bob
REPO = "5f2000000000000000000002"  # chatmock/chatmock
ORG = "5f2000000000000000000003"
LOBBY = "5f2000000000000000000004"  # chatmock/lobby
BOB_ONLY = "5f2000000000000000000005"
REPO_MESSAGES = ["5f3000000000000000000201", "5f3000000000000000000202", "5f3000000000000000000203"]
UNKNOWN_ID = "0123456789abcdef01234567"
