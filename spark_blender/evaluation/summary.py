"""Aggregates of per-case records: overall and per-category means, rates and times.

Means are over cases (each case's joint errors are first averaged over its own GT joints); a
metric a case does not define (pivot error without a revolute GT joint, time when not measured,
sim-readiness when not computed) is left out of that metric's mean. A failed case carries the
worst value of every metric (see `runner.failed_record`) and counts as not sim-ready.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    lower_is_better: bool
    digits: int = 3


METRICS = (
    Metric("chamfer", "Chamfer", True),
    Metric("f_01", "F@0.1", False),
    Metric("f_05", "F@0.5", False),
    Metric("chamfer_yaw", "Chamfer yaw", True),
    Metric("f_01_yaw", "F@0.1 yaw", False),
    Metric("f_05_yaw", "F@0.5 yaw", False),
    Metric("axis_error", "axis (rad)", True),
    Metric("pivot_error", "pivot", True),
    Metric("type_error", "type", True),
    Metric("part_count_error", "part count", True, 2),
)


@dataclass
class SummaryRow:
    group: str  # "all" or a category
    cases: int
    failed: int
    means: dict[str, float | None]
    sim_ready_rate: float | None  # None: not computed for any case
    median_seconds: float | None
    worst_seconds: float | None


def summarise(records: list[dict], group: str = "all") -> SummaryRow:
    means = {}
    for metric in METRICS:
        values = [r[metric.key] for r in records if r.get(metric.key) is not None]
        means[metric.key] = float(np.mean(values)) if values else None
    sim = [bool(r["sim_ready"]) for r in records if r.get("sim_ready") is not None]
    seconds = [t for t in map(scored_seconds, records) if t is not None]
    return SummaryRow(
        group=group,
        cases=len(records),
        failed=sum(r.get("status") != "ok" for r in records),
        means=means,
        sim_ready_rate=float(np.mean(sim)) if sim else None,
        median_seconds=float(np.median(seconds)) if seconds else None,
        worst_seconds=float(np.max(seconds)) if seconds else None,
    )


def scored_seconds(record: dict) -> float | None:
    """A case's time; a failed reconstruction counts as the whole timeout (the worst time)."""
    if record.get("status") != "ok" and record.get("timeout") is not None:
        return float(record["timeout"])
    return None if record.get("seconds") is None else float(record["seconds"])


def summarise_by_category(records: list[dict]) -> list[SummaryRow]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        groups[record.get("category") or "unknown"].append(record)
    return [summarise(groups[name], name) for name in sorted(groups)]


def fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def table_header() -> list[str]:
    return [
        "group",
        "cases",
        "failed",
        *(m.label for m in METRICS),
        "sim-ready",
        "median s",
        "worst s",
    ]


def table_cells(row: SummaryRow) -> list[str]:
    sim = "not computed" if row.sim_ready_rate is None else f"{100 * row.sim_ready_rate:.0f}%"
    return [
        row.group,
        str(row.cases),
        str(row.failed),
        *(fmt(row.means[m.key], m.digits) for m in METRICS),
        sim,
        fmt(row.median_seconds, 1),
        fmt(row.worst_seconds, 1),
    ]


def markdown_table(rows: list[SummaryRow]) -> str:
    header = table_header()
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(table_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def overall_line(row: SummaryRow) -> str:
    """The one-line result the CLI prints."""
    m = row.means
    sim = "not computed" if row.sim_ready_rate is None else f"{100 * row.sim_ready_rate:.0f}%"
    return (
        f"{row.cases} cases ({row.failed} failed): "
        f"F@0.1 {fmt(m['f_01'])} / F@0.5 {fmt(m['f_05'])} / Chamfer {fmt(m['chamfer'])}"
        f" (yaw: {fmt(m['f_01_yaw'])} / {fmt(m['f_05_yaw'])} / {fmt(m['chamfer_yaw'])});"
        f" axis {fmt(m['axis_error'])} rad, pivot {fmt(m['pivot_error'])},"
        f" type {fmt(m['type_error'])}, part count {fmt(m['part_count_error'], 2)};"
        f" sim-ready {sim}; seconds median {fmt(row.median_seconds, 1)}"
        f" worst {fmt(row.worst_seconds, 1)}"
    )
