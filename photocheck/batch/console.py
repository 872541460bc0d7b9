"""Console: progress bar and summary of a batch run (Rich, on stderr)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task as
                           ProgressTask, TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from .resume import Summary


class _RateColumn(ProgressColumn):
    def render(self, task: ProgressTask) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- img/s" if speed is None else f"{speed:,.1f} img/s", style="cyan")


class RichProgress:
    """A Rich progress bar (count, rate, elapsed, ETA) for :func:`run_batch`; a context manager.
    Disabled, it prints nothing."""

    def __init__(self, console, *, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled)
        self._task = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def phase(self, description: str, total: int) -> None:
        if self._task is not None:
            self._progress.stop_task(self._task)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)


def summary_table(summary: Summary) -> Group:
    """Counts per decision and per reason, and what the run did."""
    done = summary.skipped + summary.judged
    head = Text(f"{done} of {summary.total} inputs in {summary.out} "
                f"({summary.judged} judged now, {summary.skipped} already done)", style="bold")
    parts: list[Any] = [head]
    for title, counts in (("decision", summary.decisions), ("reason", summary.reasons)):
        if counts:
            table = Table(box=None, pad_edge=False, show_edge=False)
            table.add_column(title, style="bold")
            table.add_column("count", justify="right")
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                table.add_row(name, str(count))
            parts.append(table)
    if summary.decisions.get("error"):
        parts.append(Text("error rows are inputs that could not be judged (see error_code); "
                          "they are results, not a failed run", style="dim"))
    if summary.interrupted:
        parts.append(Text(f"stopped: {summary.remaining} inputs left; run the same command "
                          "again to finish", style="bold yellow"))
    return Group(*parts)
