"""Command line: ``photocheck check``, ``batch``, ``report``, ``eval``, ``calibrate``, ``schema``,
``policy``. A thin shell over the pipeline.

Every judgement goes through one :class:`~photocheck.pipeline.Checker`; this module only turns
arguments into calls and results into lines (Rich) or JSON Lines. Results go to stdout,
diagnostics to stderr.

What a person reads (result lines, summaries, progress, usage errors: ours and Click's, the
latter through :mod:`photocheck.usage`) is in ``--lang`` (Indonesian by default, texts from
:mod:`photocheck.i18n`); the English technical detail of an error stays in ``--json``
(``error.message``), the log, and ``--lang en``. The ``--help`` pages stay English (Click and
Typer build them from the docstrings below).
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__, i18n, palette
from .batch import (DEFAULT_CHUNK_SIZE, BatchError, RichProgress, collect_tasks, open_output,
                    run_batch, summary_table)
from .evaluation.cli import app as eval_app
from .evaluation.cli import calibrate_command
from .load import IMAGE_SUFFIXES
from .measures import unit_of
from .messages import Message, text_of
from .pipeline import Checker, Inspection
from .policy import DEFAULT_POLICY, KINDS, Policy
from .schema import Decision, RequestReason, Result, json_schema
from .usage import LocalisedGroup, plain_number

log = logging.getLogger(__name__)

#: Rich styles of the verdicts: the colours of :mod:`photocheck.palette` (the verdict is always
#: written in words too).
STYLES = {decision: f"bold {palette.decision_hex(decision)}" for decision in Decision}

LangOption = Annotated[
    i18n.Language,
    typer.Option("--lang", "-l", case_sensitive=False,
                 help="Language of what a person reads (id: Bahasa Indonesia, en: English)."),
]

app = typer.Typer(
    cls=LocalisedGroup,
    name="photocheck",
    help="Is the portrait on a KTP-el card eligible for photo replacement?",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,  # locals may hold image arrays
)

app.add_typer(eval_app, name="eval")
app.command("calibrate", help="Same as `photocheck eval calibrate`.")(calibrate_command)

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

PolicyOption = Annotated[
    Optional[str],
    typer.Option("--policy", "-p", metavar="NAME_OR_TOML",
                 show_default="replacement",
                 help="A shipped policy name or a policy TOML file."),
]


class Profile(str, enum.Enum):
    """Values of ``--profile``: the shipped policies by what they judge."""

    REPLACEMENT = "replacement"  # a replacement request on an existing card photo
    CAPTURE = "capture"  # a new photo taken at the office


ProfileOption = Annotated[
    Optional[Profile],
    typer.Option("--profile", case_sensitive=False, show_default="replacement",
                 help="What to judge: [bold]replacement[/bold] (may the card's photo be "
                      "replaced?) or [bold]capture[/bold] (does a new photo meet the KTP-el "
                      "standard?). With --policy FILE, the file must be of this kind."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"photocheck {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Show the version and exit."),
    ] = False,
) -> None:
    """Decide, explainably, whether a KTP-el portrait may be replaced: only when it is blurry
    (buram) or the face is not clearly visible; a hijab request is eligible by policy."""


@app.command()
def check(
    paths: Annotated[
        list[Path],
        # readable=False: an unreadable file is an error result (``unreadable``) like any
        # other bad input, not a usage error that stops the other files being judged.
        typer.Argument(show_default=False, metavar="PATH", readable=False,
                       help="Image files. A directory adds its image files (jpg, jpeg, png, "
                            "webp, bmp, tif, tiff, gif), sorted, not recursively."),
    ],
    json_lines: Annotated[
        bool,
        typer.Option("--json", help="Write one JSON result per input (JSON Lines) to stdout "
                                    "and nothing else."),
    ] = False,
    reason: Annotated[
        RequestReason,
        typer.Option("--reason", "-r", case_sensitive=False,
                     help="Why the citizen asks for a new photo. hijab, appearance_change and "
                          "verification_failed are eligible by policy."),
    ] = RequestReason.QUALITY,
    lang: LangOption = i18n.Language.ID,
    annotate: Annotated[
        Optional[Path],
        typer.Option("--annotate", "-a", metavar="OUT_DIR", file_okay=False,
                     help="Write an annotated PNG per judged image to OUT_DIR/<stem>.png "
                          "(a counter is added when two inputs share a stem)."),
    ] = None,
    policy: PolicyOption = None,
    profile: ProfileOption = None,
    birth_year: Annotated[
        Optional[int],
        typer.Option("--birth-year", "-b", min=1900, max=2100, show_default=False,
                     help="The holder's birth year (capture profile): the background must be "
                          "red for an odd year, blue for an even one. Without it a red or "
                          "blue background goes to review."),
    ] = None,
    card: Annotated[
        Optional[bool],
        typer.Option("--card/--no-card", show_default="look",
                     help="The image is a photo or scan of the whole KTP-el card: find the card, "
                          "cut out its portrait and judge that (a shot too blurred to judge is "
                          "error 'retake'). --no-card: a portrait. Default: decide by looking."),
    ] = None,
) -> None:
    """Check photos and print one verdict per image.

    Exit codes: [bold]0[/bold] every input was judged (eligible, not_eligible, accepted,
    rejected or review); [bold]1[/bold] at least one input could not be judged (decision error,
    e.g. file not found or not an image) or an annotation could not be written; [bold]2[/bold]
    usage error (bad option, unknown policy, no image files to check).
    """
    lang = i18n.check_language(lang)
    active = _load_policy(policy, profile, lang)
    inputs = _expand(paths, lang)
    if not inputs:
        _usage_error(i18n.text("cli.no_images", lang), lang)
    if annotate is not None:
        try:
            annotate.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("cannot create %s: %s", annotate, exc.strerror or exc)
            _usage_error(i18n.text("cli.cannot_create_folder", lang).format(path=annotate), lang)

    try:
        checker = Checker(active)
    except Exception:  # models missing or unloadable: nothing can be judged
        log.exception("cannot start the checker")
        err.print(Text(f"photocheck: {i18n.text('cli.cannot_start', lang)}", style="bold red"))
        raise typer.Exit(1) from None

    counts: Counter[Decision] = Counter()
    failed = False
    used_names: set[str] = set()
    with checker:
        for path in inputs:
            inspection = checker.inspect(path, reason=reason, birth_year=birth_year, card=card)
            result = inspection.result
            counts[result.decision] += 1
            written = None
            if annotate is not None and result.decision is not Decision.ERROR:
                written = _write_annotation(inspection, annotate, path, used_names, active,
                                            lang)
                failed |= written is None
            if json_lines:
                typer.echo(result.to_json())
            else:
                out.print(_row(result, lang, written))
    if not json_lines and len(inputs) > 1:
        out.print(_summary(counts, len(inputs), lang))
    if failed or counts[Decision.ERROR]:
        raise typer.Exit(1)


class BatchEngine(str, enum.Enum):
    """Values of ``batch --engine``."""

    LOCAL = "local"
    DASK = "dask"


@app.command("batch")
def batch_command(
    inputs: Annotated[
        list[str],
        typer.Argument(show_default=False, metavar="INPUT",
                       help="Folders (recursive), quoted glob patterns (\"arsip/**/*.jpg\"), "
                            ".zip / .tar / .tar.gz archives, or CSV manifests (a path column, "
                            "relative to the CSV, and optional id and birth_year columns)."),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="RESULTS", show_default=False, dir_okay=False,
                     help="Results file: .jsonl, .csv or .parquet. Rows are appended as they "
                          "finish; rerunning the same command resumes."),
    ],
    workers: Annotated[
        Optional[int],
        typer.Option("--workers", "-w", min=1, show_default="CPU count",
                     help="Worker processes (each loads the models once)."),
    ] = None,
    reason: Annotated[
        RequestReason,
        typer.Option("--reason", "-r", case_sensitive=False,
                     help="Why the citizens ask for new photos (one reason for the batch)."),
    ] = RequestReason.QUALITY,
    policy: PolicyOption = None,
    chunk_size: Annotated[
        int,
        typer.Option("--chunk-size", min=1, help="At most this many images per worker task."),
    ] = DEFAULT_CHUNK_SIZE,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="No progress bar on stderr."),
    ] = False,
    engine: Annotated[
        BatchEngine,
        typer.Option("--engine", case_sensitive=False,
                     help="Where the images are judged: local worker processes, or Dask (a "
                          "LocalCluster here, or the cluster at --scheduler; needs "
                          "pip install 'photocheck\\[dask]')."),
    ] = BatchEngine.LOCAL,
    scheduler: Annotated[
        Optional[str],
        typer.Option("--scheduler", metavar="ADDRESS", show_default=False,
                     help="Address of an existing Dask scheduler (tcp://host:8786); implies "
                          "--engine dask. Workers need the photos at the same paths."),
    ] = None,
    lang: LangOption = i18n.Language.ID,
) -> None:
    """Audit a photo archive: judge every image, in parallel, into one results file.

    Resumable: rerun the same command after a crash or Ctrl-C and only the inputs not yet in
    RESULTS (or whose bytes changed) are judged. Exit codes: [bold]0[/bold] every input was
    processed ([italic]error[/italic] rows, e.g. a corrupt file, are results, not failures);
    [bold]130[/bold] stopped by Ctrl-C, what finished is written; [bold]1[/bold] the run failed
    (e.g. models could not be loaded); [bold]2[/bold] usage error.
    """
    lang = i18n.check_language(lang)
    _load_policy(policy, lang=lang)
    try:
        open_output(out)  # a bad suffix is a usage error before any listing
        use_dask = engine is BatchEngine.DASK or scheduler is not None
        if use_dask:
            from .batch.dask_engine import require_distributed

            require_distributed()  # a usage error naming the extra, before any listing
        notes: list[str] = []
        tasks = collect_tasks(inputs, warn=notes.append)
        if not tasks:  # one line, not a note per input and then the error
            _usage_error(i18n.text("cli.no_images", lang), lang)
        for note in notes:  # batch's own notes (damaged archive, skipped manifest row)
            err.print(Text(f"{i18n.text('cli.batch_note', lang)}: {text_of(note, lang)}",
                           style="yellow"))
        with contextlib.ExitStack() as stack:
            chosen = None
            if use_dask:
                from .batch.dask_engine import DaskEngine

                chosen = stack.enter_context(DaskEngine(scheduler, workers=workers))
            progress = stack.enter_context(RichProgress(err, enabled=not no_progress,
                                                        lang=lang))
            summary = run_batch(tasks, out, engine=chosen, workers=workers, policy=policy,
                                reason=reason.value, chunk_size=chunk_size, progress=progress,
                                not_images=tasks.not_images)
    except BatchError as exc:
        log.info("batch usage error: %s", exc)
        _usage_error(f"{exc.param + ': ' if exc.param else ''}{text_of(exc.message, lang)}",
                     lang)
    except KeyboardInterrupt:  # while listing the inputs
        raise typer.Exit(130) from None
    except typer.Exit:
        raise
    except Exception:
        log.exception("the batch stopped")
        err.print(Text(f"photocheck: {i18n.text('cli.batch_failed', lang)}", style="bold red"))
        raise typer.Exit(1) from None
    err.print(summary_table(summary, lang))
    if summary.interrupted:
        raise typer.Exit(130)


@app.command("report")
def report_command(
    results: Annotated[Path, typer.Argument(exists=True, dir_okay=False, metavar="RESULTS",
                                            help="Results of `batch` (.jsonl, .csv, .parquet) "
                                                 "or of `check --json`.")],
    html: Annotated[Path, typer.Option("--html", dir_okay=False,
                                       help="Where to write the report (one offline file).")],
    lang: LangOption = i18n.Language.ID,
    thumbnails: Annotated[bool, typer.Option(
        help="Embed thumbnails of the flagged photos (personal data: --no-thumbnails leaves "
             "them out).")] = True,
    worst: Annotated[int, typer.Option(min=0, help="Flagged photos shown per decision.")] = 60,
) -> None:
    """Write an HTML report of a results file: counts per decision and reason, sharpness
    plots and a gallery of the flagged photos, worst first. Opens offline."""
    from .report import write_report  # matplotlib only when a report is asked for

    lang = i18n.check_language(lang)
    written = write_report(results, html, lang=lang, thumbnails=thumbnails, worst=worst)
    err.print(Text(i18n.text("cli.report_written", lang).format(path=written)))


from .service.settings import (API_KEY_ENV, DEFAULT_HOST, DEFAULT_MAX_PIXELS,  # noqa: E402
                               DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PORT)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on. Anything but loopback "
                                           "needs --api-key (or --allow-unauthenticated).")
                    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
    api_key: Annotated[Optional[str], typer.Option(
        envvar=API_KEY_ENV, show_default=False,
        help="Require this key in the X-API-Key header of /v1/check and /v1/policy "
             "(the page asks for it). On the command line it shows in the process list: "
             "prefer --api-key-file or the environment variable.")] = None,
    api_key_file: Annotated[Optional[Path], typer.Option(
        dir_okay=False, metavar="PATH", show_default=False,
        help="Read the API key from this file (e.g. mode 600).")] = None,
    allow_unauthenticated: Annotated[bool, typer.Option(
        "--allow-unauthenticated",
        help="Serve a non-loopback --host without an API key (a closed network only).")
    ] = False,
    policy: PolicyOption = None,
    workers: Annotated[Optional[int], typer.Option(
        min=1, show_default="CPU count",
        help="Server processes (each loads the models once).")] = None,
    checkers: Annotated[int, typer.Option(
        min=1, help="Checks that run at once in each process (each holds one set of models).")
    ] = 1,
    max_upload_mb: Annotated[float, typer.Option(
        min=0.01, help="Largest upload, MiB (413 beyond).")] = DEFAULT_MAX_UPLOAD_BYTES / 2**20,
    max_pixels: Annotated[int, typer.Option(
        min=1, help="Largest image, width x height in pixels (413 beyond).")
    ] = DEFAULT_MAX_PIXELS,
    audit_log: Annotated[Optional[Path], typer.Option(
        dir_okay=False, metavar="PATH",
        help="Append one JSON line per check (result and SHA-256 of the photo; never the "
             "photo). Off by default: nothing is stored.")] = None,
    access_log: Annotated[bool, typer.Option(
        help="Log method, path and status of each request (never content).")] = True,
    lang: LangOption = i18n.Language.ID,
) -> None:
    """Start the counter service: the web page at / and the HTTP API under /v1 (docs at
    /docs). Runs until Ctrl-C. See README.md, "Counter service"."""
    from .service import ServiceSettings, serve  # FastAPI and uvicorn only when serving

    lang = i18n.check_language(lang)
    _load_policy(policy, lang=lang)  # a bad policy is a usage error, before anything starts
    source = ctx.get_parameter_source("api_key")
    if api_key is not None and getattr(source, "name", "") == "COMMANDLINE":
        err.print(Text(i18n.text("cli.api_key_visible", lang).format(env=API_KEY_ENV),
                       style="yellow"))
    if api_key_file is not None:
        api_key = None  # the file wins over the environment
    options = dict(host=host, port=port, api_key=api_key, api_key_file=api_key_file,
                   policy=policy,
                   allow_unauthenticated=allow_unauthenticated,
                   max_upload_bytes=round(max_upload_mb * 2**20), max_pixels=max_pixels,
                   audit_log=audit_log, access_log=access_log, checkers=checkers)
    if workers is not None:
        options["workers"] = workers
    try:
        settings = ServiceSettings(**options)
    except ValueError as exc:  # (the options' own bounds catch what this checks)
        _usage_error(Message("cli.bad_usage", str(exc)).text(lang), lang)
    try:
        settings.check_exposure()
    except ValueError:
        message = Message("cli.serve_exposed", host=host, env=API_KEY_ENV, local=DEFAULT_HOST)
        _usage_error(f"--host: {message.text(lang)}", lang)
    serve(settings, lang)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a result (what [bold]check --json[/bold] writes per line)."""
    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


@app.command("policy")
def show_policy(policy: PolicyOption = None, profile: ProfileOption = None,
                lang: LangOption = i18n.Language.ID) -> None:
    """Show the active policy: name, kind, version, how it was fitted, and its rules. Reason
    and measure names are the codes of the JSON results; the policy's own description is
    shown as its file writes it."""
    lang = i18n.check_language(lang)
    active = _load_policy(policy, profile, lang)
    kind = KINDS[active.kind]

    def words(key: str) -> str:
        return i18n.text(key, lang)

    out.print(Text.assemble((f"{words('cli.policy')} ", "bold"), (active.name, "bold cyan"),
                            " ", (active.version, "cyan"),
                            f"  ({words('cli.policy_kind').format(kind=active.kind)})"))
    if active.description:
        out.print(Text(active.description))
    if active.fitted_on:
        out.print(Text.assemble((f"{words('cli.policy_fitted_on')}: ", "bold"),
                                " ".join(active.fitted_on.split())))
    title = words("cli.policy_rules").format(
        defect=i18n.decision_label(kind.defect, lang),
        review=i18n.decision_label(Decision.REVIEW, lang),
        clean=i18n.decision_label(kind.clean, lang), clean_reason=kind.clean_reason.value)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column(words("cli.policy_reason"), style="bold", no_wrap=True)
    table.add_column(words("cli.policy_measure"), no_wrap=True)  # codes: never split them
    table.add_column(words("cli.policy_unit"))
    table.add_column(words("cli.policy_decides"), style="red")
    table.add_column(words("cli.policy_review"), style="yellow")
    table.add_column(words("cli.policy_face"), overflow="fold")
    for rule in active.rules:
        unit = unit_of(rule.measure)
        table.add_row(rule.reason.value, rule.measure,
                      i18n.MESSAGES[lang].get(f"ui.unit.{unit}", unit),
                      _bounds(rule.eligible_below, rule.eligible_above, lang),
                      _bounds(rule.review_below, rule.review_above, lang),
                      words("cli.yes" if rule.needs_face else "cli.no"))
    out.print(table)
    for rule in active.rules:
        if rule.card_measure is not None:
            out.print(Text(words("cli.policy_on_card").format(
                reason=rule.reason.value, measure=rule.measure, card_measure=rule.card_measure)))
    colour = active.background_colour
    if colour is not None:
        degrees = words("ui.unit.deg")
        hues = ", ".join(f"{_colour_name(name, lang)} {plain_number(hue, lang)} {degrees}"
                         for name, hue in colour.hue_deg.items())
        out.print(Text(words("cli.policy_background").format(
            odd=_colour_name(colour.odd_year, lang), even=_colour_name(colour.even_year, lang),
            hues=hues, tolerance=plain_number(colour.hue_tolerance_deg, lang),
            chroma=plain_number(colour.min_chroma, lang))))


# --------------------------------------------------------------------------------------------
# Helpers


def _load_policy(source: str | None, profile: Profile | None = None,
                 lang: str = i18n.DEFAULT_LANGUAGE) -> Policy:
    """The policy of ``--policy`` (a name or file) and ``--profile`` (a shipped policy name):
    either alone, or both when the file is of the profile's kind. A usage error otherwise."""
    chosen = source if source is not None else (profile.value if profile is not None else None)
    try:
        loaded = Policy.load(chosen)
    except (OSError, ValueError) as exc:  # missing file, unknown name, bad TOML or rule
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        message = Message("cli.bad_policy", detail, source=chosen or DEFAULT_POLICY)
        _usage_error(f"--policy: {message.text(lang)}", lang)
    if profile is not None and loaded.kind != profile.value:
        message = Message("cli.policy_not_of_kind", name=loaded.name, kind=loaded.kind,
                          profile=profile.value)
        _usage_error(f"--profile: {message.text(lang)}", lang)
    return loaded


def _usage_error(message: str, lang: str) -> NoReturn:
    """Print ``message`` as a usage error in ``lang`` and exit 2 (as Click's own errors do)."""
    err.print(Text(f"photocheck: {i18n.text('cli.usage_error', lang)}: {message}",
                   style="bold red"))
    raise typer.Exit(2)


def _expand(paths: list[Path], lang: str) -> list[Path]:
    """Files as given (even missing ones: they become error rows); directories expanded. An
    empty directory gets a note when other inputs remain (else the caller says it once)."""
    inputs: list[Path] = []
    empty: list[Path] = []
    for path in paths:
        try:
            found = (sorted(p for p in path.iterdir()
                            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
                     if path.is_dir() else None)
        except OSError:  # a folder that cannot be listed: the checker reports it unreadable
            found = None
        if found is None:
            inputs.append(path)
            continue
        if not found:
            empty.append(path)
        inputs.extend(found)
    for path in empty if inputs else ():
        err.print(Text("photocheck: " + i18n.text('cli.no_images_in', lang).format(
            where=shown(os.fspath(path))), style="yellow"))
    return inputs


def _write_annotation(inspection: Inspection, folder: Path, source: Path, used: set[str],
                      policy: Policy, lang: str) -> Path | None:
    """Write ``folder/<stem>.png`` (``<stem>-2.png``, ... when taken in this run)."""
    from .annotate import save_annotation  # imported here: cv2/Pillow drawing only when asked

    stem = source.stem or "image"
    name, counter = f"{stem}.png", 1
    while name.lower() in used:
        counter += 1
        name = f"{stem}-{counter}.png"
    used.add(name.lower())
    try:
        return save_annotation(inspection, folder / name, policy, lang)
    except Exception:
        log.exception("cannot write the annotation %s", folder / name)
        failed = i18n.text("cli.annotation_failed", lang)
        err.print(Text(f"photocheck: {failed.format(path=shown(os.fspath(folder / name)))}",
                       style="red"))
        return None


def shown(text: str) -> str:
    """``text`` safe for a terminal: each non-printable character (an escape code in a file
    name, an undecodable byte) written as its Python escape, e.g. ``\\x1b``."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _row(result: Result, lang: str, annotation: Path | None) -> Text:
    line = Text()
    line.append(shown(result.path or "<image>"), style="bold")
    line.append("  ")
    line.append(i18n.decision_label(result.decision, lang), style=STYLES[result.decision])
    if result.error is not None:
        # The English technical message is for --json and logs; the code helps support.
        line.append("  " + i18n.error_text(result.error.code, lang))
        line.append(f" [{i18n.text('ui.code', lang)} {result.error.code.value}]", style="dim")
    elif result.reasons:
        line.append("  " + " ".join(i18n.reason_sentence(r, result.decision, lang)
                                    for r in result.reasons))
    if annotation is not None:
        line.append(f"  [{i18n.text('ui.annotation', lang)}: {shown(os.fspath(annotation))}]",
                    style="dim")
    return line


def _summary(counts: Counter[Decision], total: int, lang: str) -> Text:
    parts = [f"{i18n.decision_label(d, lang)} {counts[d]}" for d in Decision if counts[d]]
    return Text(f"{i18n.text('ui.summary', lang)}: {total} {i18n.text('ui.images', lang)}; "
                + ", ".join(parts), style="bold")


def _bounds(below: float | None, above: float | None, lang: str) -> str:
    parts = []
    if below is not None:
        parts.append(f"< {plain_number(below, lang)}")
    if above is not None:
        parts.append(f"> {plain_number(above, lang)}")
    return f" {i18n.text('cli.or', lang)} ".join(parts) or "-"


def _colour_name(name: str, lang: str) -> str:
    """A background colour class of a policy (``red``, ``blue``) in words."""
    key = f"ui.colour.{name}"
    return i18n.text(key, lang) if key in i18n.MESSAGES[lang] else name
