"""Numbers -> text: ratios, target verdicts and the plain-text tables ``bench/run.py`` prints.

Pure functions only, so ``tests/test_bench_smoke.py`` checks them on synthetic numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """One stated goal: ``measured`` compared with ``limit`` (``at_least`` or at most)."""

    name: str
    measured: float | None  # None: not measured (e.g. Prism not installed)
    limit: float
    at_least: bool
    unit: str = ""
    note: str = ""
    provisional: bool = False  # measured under easier conditions than the target states

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "not measured"
        met = self.measured >= self.limit if self.at_least else self.measured <= self.limit
        if not met:
            return "MISSED"
        return "unproven" if self.provisional else "met"

    def line(self) -> str:
        sign = ">=" if self.at_least else "<="
        value = "-" if self.measured is None else f"{fmt_number(self.measured)}{self.unit}"
        note = f" ({self.note})" if self.note else ""
        return f"{self.verdict:<12} {self.name}: {value} (target {sign} {fmt_number(self.limit)}{self.unit}){note}"


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_number(value: float | None) -> str:
    """Three significant digits, no exponent for the magnitudes a benchmark prints."""
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (also readable as plain text), columns padded to their widest cell."""
    widths = [len(header) for header in headers]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {list(row)!r} has {len(row)} cells, expected {len(headers)}")
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    separator = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def section(title: str, body: str) -> str:
    return f"\n## {title}\n\n{body}\n"
