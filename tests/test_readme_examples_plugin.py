"""The pytest/respx examples of README.md, run as tests; the last test keeps the README in step with them."""
# mypy: disallow-untyped-defs=False
# (the README shows the two examples without annotations, as a bot author writes them)

import httpx
import pytest


def test_my_bot_lists_its_rooms(chatmock):
    token = chatmock.credentials("gitter", "alice")["token"]
    rooms = httpx.get(chatmock.url("gitter") + "/v1/rooms", headers={"Authorization": f"Bearer {token}"})
    assert rooms.status_code == 200
    assert "chatmock/chatmock" in [room["name"] for room in rooms.json()]


@pytest.mark.chatmock_respx(rocketchat_host="chat.example.com")
def test_my_bot_keeps_its_production_urls(chatmock_respx):
    login = httpx.post("https://chat.example.com/api/v1/login", data={"user": "alice", "password": "alice-password"})
    assert login.json()["status"] == "success"
    session = httpx.post("http://lingr.com/api/session/create", data={"user": "alice", "password": "alice-password"})
    assert session.json()["status"] == "ok"
    assert chatmock_respx["chatmock"].call_count == 2


def test_the_page_shows_exactly_these_tests() -> None:
    import re
    from pathlib import Path

    here = Path(__file__)
    page = (here.parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    assert len(blocks) == 2
    source = here.read_text(encoding="utf-8")
    for block in blocks:
        assert block.strip() in source, f"README.md shows code that is not in {here.name}:\n{block}"
