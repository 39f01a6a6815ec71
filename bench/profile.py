"""Where the mock spends its time under load: py-spy samples of the server process (raw,
collapsed stacks), summed per function: inclusive (on the stack) and own (at the top)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]+?)(?::\d+)?\)$")
_SITE = re.compile(r".*/(?:site-packages|lib/python3\.\d+)/")


@dataclass(frozen=True)
class Hotspot:
    function: str  # "name (file)"
    inclusive: float  # share of samples with it on the stack, 0..1
    own: float  # share of samples with it on top


def available() -> bool:
    return shutil.which("py-spy") is not None


def start(pid: int, seconds: float, output: Path, rate: int = 250) -> subprocess.Popen[bytes]:
    """py-spy recording ``pid`` for ``seconds`` in the background (collapsed stacks to ``output``)."""
    command = ["py-spy", "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", str(rate)]
    command += ["--format", "raw", "--function", "--nonblocking", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _short(frame: str, root: str) -> str:
    found = _FRAME.match(frame.strip())
    if found is None:
        return frame.strip()
    path = found.group("file").replace(root, "")
    path = _SITE.sub("", path)
    return f"{found.group('function')} ({path})"


def hotspots(
    collapsed: str, root: str = "", top: int = 15, idle: tuple[str, ...] = ("select", "poll", "run_forever", "_run_once")
) -> list[Hotspot]:
    """Per-function shares of the busy samples (stacks whose top is an idle wait are left out)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    busy = 0
    for line in collapsed.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        frames = [_short(frame, root) for frame in stack_text.split(";") if frame]
        top_name = frames[-1].split(" (", 1)[0].rsplit(".", 1)[-1] if frames else ""
        if not frames or top_name in idle:
            continue
        count = int(count_text)
        busy += count
        own[frames[-1]] += count
        for function in set(frames):
            inclusive[function] += count
    if busy == 0:
        return []
    return [Hotspot(function, inclusive[function] / busy, own[function] / busy) for function, _ in inclusive.most_common(top)]


def own_top(collapsed: str, root: str = "", top: int = 10) -> list[Hotspot]:
    """The functions with the most samples at the top of the stack."""
    spots = hotspots(collapsed, root, top=10**6)
    return sorted(spots, key=lambda spot: spot.own, reverse=True)[:top]
