"""The schemas and fixtures are found from a wheel too, from any working directory; the wheel
is typed (``py.typed``)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_the_data_and_loads_it_from_elsewhere(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("chatmock*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "mockserver/_data/schemas/_meta/endpoint.json" in names
        assert "mockserver/_data/fixtures/lingr/index.json" in names
        assert any(name.startswith("mockserver/apis/bocco/world.json") for name in names)
        assert "mockserver/py.typed" in names  # PEP 561: users' type checkers read the annotations
        archive.extractall(tmp_path / "site")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    probe = (
        "import mockserver.core.paths as p, mockserver.core.registry as r, mockserver.core.fixtures as f;"
        "print(p.schemas_dir()); print(len(r.load_registry().endpoints), len(f.fixtures()))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r}); {probe}"],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
    )
    where, counts = result.stdout.strip().splitlines()
    assert where.startswith(str(tmp_path / "site")), where
    endpoints, fixture_count = (int(value) for value in counts.split())
    assert endpoints >= 40
    assert fixture_count >= 100


def test_the_top_level_create_app_is_the_real_one_imported_on_first_use() -> None:
    probe = (
        "import sys, inspect, mockserver; assert 'mockserver.app' not in sys.modules;"
        "import mockserver.app; assert mockserver.create_app is mockserver.app.create_app;"
        "print(sorted(inspect.signature(mockserver.create_app).parameters))"
    )
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert "strict" in result.stdout
    missing = subprocess.run([sys.executable, "-c", "import mockserver; mockserver.nothing"], check=False, capture_output=True, text=True)
    assert "has no attribute 'nothing'" in missing.stderr
