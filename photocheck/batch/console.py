"""Console: progress bar and summary of a batch run (Rich, on stderr), in the reader's
language (:mod:`photocheck.i18n`)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task as
                           ProgressTask, TextColumn, TimeElapsedColumn, TimeRemainingColumn)
from rich.table import Table
from rich.text import Text

from .. import i18n
from ..schema import Decision
from .resume import Summary


class _RateColumn(ProgressColumn):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self._lang = lang

    def render(self, task: ProgressTask) -> Text:
        speed = task.finished_speed or task.speed
        rate = "--" if speed is None else i18n.format_number(speed, self._lang, 1, grouping=True)
        return Text(i18n.text("batch.rate", self._lang).format(rate=rate), style="cyan")


class RichProgress:
    """A Rich progress bar (count, rate, elapsed, time left) for :func:`run_batch`, in
    ``lang``; a context manager. Disabled, it prints nothing."""

    def __init__(self, console, *, enabled: bool = True,
                 lang: str = i18n.DEFAULT_LANGUAGE) -> None:
        self._lang = i18n.check_language(lang)
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            _RateColumn(self._lang), TimeElapsedColumn(),
            TextColumn(i18n.text("batch.eta", self._lang)), TimeRemainingColumn(),
            console=console, disable=not enabled)
        self._task = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int) -> None:
        if self._task is not None:
            self._progress.stop_task(self._task)
        self._task = self._progress.add_task(i18n.text(f"batch.phase.{name}", self._lang),
                                             total=total)

    def advance(self, count: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, count)


def summary_table(summary: Summary, lang: str = i18n.DEFAULT_LANGUAGE) -> Group:
    """What a run did, in ``lang``: counts per decision and per reason in words, the files
    passed over as not images, and whether it was stopped."""
    done = summary.skipped + summary.judged
    parts: list[Any] = [Text(i18n.text("cli.batch_done", lang).format(
        done=_count(done, lang), total=_count(summary.total, lang), out=summary.out,
        judged=_count(summary.judged, lang), skipped=_count(summary.skipped, lang)),
        style="bold")]
    for title, counts, label in (
            ("page.slip_decision", summary.decisions, i18n.decision_label),
            ("page.reasons", summary.reasons, i18n.reason_text)):
        if counts:
            table = Table(box=None, pad_edge=False, show_edge=False)
            table.add_column(i18n.text(title, lang), style="bold")
            table.add_column(i18n.text("cli.count", lang), justify="right")
            for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
                try:
                    words = label(code, lang)
                except ValueError:  # a code this version does not know
                    words = code
                table.add_row(words, _count(count, lang))
            parts.append(table)
    if summary.not_images:
        parts.append(Text(i18n.text("batch.not_images_skipped", lang).format(
            count=_count(summary.not_images, lang))))
    if summary.decisions.get(Decision.ERROR.value):
        parts.append(Text(i18n.text("cli.batch_error_note", lang), style="dim"))
    if summary.interrupted:
        parts.append(Text(i18n.text("cli.batch_stopped", lang).format(
            remaining=_count(summary.remaining, lang)), style="bold yellow"))
    return Group(*parts)


def _count(value: int, lang: str) -> str:
    return i18n.format_number(value, lang, 0, grouping=True)
