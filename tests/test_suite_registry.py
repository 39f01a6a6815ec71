"""The suite's request specs are checked like the mock's ``@handles``: every endpoint of the
schemas needs a valid request (or a declared reason there is none) and an unknown-id request
(or a declaration that it names no id); the suite refuses to collect otherwise, naming the
endpoint and the file to edit."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

import contract_tests
from contract_tests.apis import support
from contract_tests.specs import Context, DeclaredImpossible, Discovery, RequestSpec, RequestSpecs, problems_of
from mockserver.apis import API_NAMES
from mockserver.core.paths import schemas_dir
from mockserver.core.registry import load, load_registry

pytest_plugins = ["pytester"]

NEW_ENDPOINT = "rocketchat.chatmock.example"  # an endpoint the schemas do not have
MISSING = f"no request spec for {NEW_ENDPOINT}: add one in contract_tests/apis/rocketchat.py"
SUITE = Path(contract_tests.__file__).parent


def with_new_endpoint(root: Path) -> Path:
    """A copy of the schemas with one more Rocket.Chat endpoint (as a contributor adds one)."""
    copied = root / "schemas"
    shutil.copytree(schemas_dir(), copied)
    document = json.loads((copied / "rocketchat" / "rocketchat.channels.history.json").read_text(encoding="utf-8"))
    document.update(id=NEW_ENDPOINT, summary="An example endpoint", path="/api/v1/chatmock.example")
    (copied / "rocketchat" / f"{NEW_ENDPOINT}.json").write_text(json.dumps(document), encoding="utf-8")
    return copied


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_new_endpoint(tmp_path_factory.mktemp("grown"))


def test_every_endpoint_has_its_request_specs() -> None:
    assert problems_of((support(api).specs for api in API_NAMES), load_registry()) == []


def test_a_new_endpoint_without_a_spec_is_named_with_the_file_to_edit(grown: Path) -> None:
    problems = support("rocketchat").specs.problems(load(grown))
    assert len(problems) == 2
    assert problems[0].startswith(MISSING)
    assert problems[1].startswith(f"no unknown-id request for {NEW_ENDPOINT}: add one in contract_tests/apis/rocketchat.py")


def collect_with(pytester: pytest.Pytester, schemas: Path, *options: str) -> pytest.RunResult:
    """Collect the contract suite in a fresh interpreter whose registry is loaded from ``schemas``."""
    pytester.makepyfile(
        grown_schemas=textwrap.dedent(
            f"""
            from pathlib import Path

            import mockserver.core.registry as registry

            GROWN = registry.load(Path({str(schemas)!r}))
            registry.load_registry = lambda: GROWN
            """
        )
    )
    return pytester.runpytest_subprocess(str(SUITE), "--collect-only", "-q", "-p", "grown_schemas", "-p", "no:cacheprovider", *options)


def test_the_suite_refuses_to_collect_without_a_spec(pytester: pytest.Pytester, grown: Path) -> None:
    result = collect_with(pytester, grown)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the request specs are incomplete*", f"*{MISSING}*"])


def test_only_selected_apis_are_checked(pytester: pytest.Pytester, grown: Path) -> None:
    assert collect_with(pytester, grown, "--api", "lingr").ret == pytest.ExitCode.OK


# the registry's own rules ---------------------------------------------------------------------
def specs() -> RequestSpecs[Discovery]:
    return RequestSpecs[Discovery]("lingr", SUITE / "apis" / "lingr.py")


def test_a_second_builder_for_an_endpoint_is_refused() -> None:
    one = specs()
    one.request_for("lingr.room.show")(lambda ctx: RequestSpec())
    with pytest.raises(ValueError, match=re.escape("lingr.room.show has two valid request builders in contract_tests/apis/lingr.py")):
        one.request_for("lingr.room.show")(lambda ctx: RequestSpec())
    with pytest.raises(ValueError, match="two valid request builders"):
        one.cannot_build("lingr.room.show", "no reason")


def test_another_apis_endpoint_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("gitter.rooms.list is not a lingr endpoint")):
        specs().request_for("gitter.rooms.list")(lambda ctx: RequestSpec())


def test_names_no_id_and_an_unknown_id_request_exclude_each_other() -> None:
    one = specs()
    one.names_no_id("lingr.session.verify")
    with pytest.raises(ValueError, match="declared to name no id"):
        one.unknown_id_for("lingr.session.verify")(lambda ctx: RequestSpec())
    with pytest.raises(ValueError, match="names_no_id given twice"):
        one.names_no_id("lingr.session.verify")


def test_an_undocumented_endpoint_in_the_specs_is_a_problem() -> None:
    one = specs()
    one.names_no_id("lingr.room.rename")
    assert "contract_tests/apis/lingr.py names lingr.room.rename, which no schema documents" in one.problems(load_registry())


def test_a_declared_impossible_request_answers_its_reason_and_counts_as_a_spec() -> None:
    one = specs()
    one.cannot_build("lingr.event.observe", "a live observe may be held for minutes")
    with pytest.raises(DeclaredImpossible, match="held for minutes"):
        one.valid("lingr.event.observe")
    assert not any(problem.startswith("no request spec for lingr.event.observe") for problem in one.problems(load_registry()))
    with pytest.raises(LookupError, match=re.escape("no request spec for lingr.room.show: add one in contract_tests/apis/lingr.py")):
        one.valid("lingr.room.show")


def test_writes_are_declared_with_the_request() -> None:
    one = specs()

    @one.request_for("lingr.room.say", writes=True)
    def say(ctx: Context[Discovery]) -> RequestSpec:
        return RequestSpec({"room": ctx.found.first("room"), "text": "hi"})

    assert one.writes == frozenset({"lingr.room.say"})
    assert support("lingr").writes == frozenset({"lingr.room.say", "lingr.favorite.add", "lingr.favorite.remove"})
