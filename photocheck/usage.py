"""Usage errors of the command line in the reader's language.

Click (inside Typer) writes its own usage errors in English: ``Missing argument 'PATH...'``,
``No such option``, ``'fr' is not one of 'id', 'en'``. :class:`LocalisedGroup`, the class of
photocheck's command group, catches them and says the same in the language of ``--lang`` found
on the command line (Indonesian when there is none), the way photocheck's own usage errors
look: ``photocheck: Kesalahan perintah: PATH belum diisi.``, then the usage line and where the
help is; exit status 2 as before. Words come from :mod:`photocheck.i18n` (``cli.*``); the English
original goes to the log, and ``--lang en`` shows it where there are no words of ours for it.
The ``--help`` pages themselves stay English: Click and Typer build them from docstrings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import sys
import typing

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from . import i18n

try:  # Typer 0.2x+ carries its own copy of Click
    from typer._click import exceptions as _click_errors
except ImportError:  # older Typer uses Click itself
    from click import exceptions as _click_errors

log = logging.getLogger(__name__)

err = Console(stderr=True, soft_wrap=True, highlight=False)


class LocalisedGroup(TyperGroup):
    """The command group: Click's own usage errors (a missing argument, an unknown option, a
    bad option value) are printed in the language of ``--lang`` found on the command line
    (Indonesian when there is none), in place of Typer's English panel."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        arguments = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(arguments, prog_name, complete_var, False, **extra)
        except _click_errors.ClickException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # (Typer has shown the help)
                show_click_error(exc, language_in(arguments))
            sys.exit(exc.exit_code)
        except typer.Abort:
            err.print(Text(i18n.text("cli.aborted", language_in(arguments)), style="red"))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def language_in(arguments: list[str]) -> str:
    """The language a command line asks for with ``--lang``/``-l`` (the last one given; before
    a ``--``), or the default when it names none that exists."""
    chosen = i18n.DEFAULT_LANGUAGE
    for index, argument in enumerate(arguments):
        if argument == "--":
            break
        if argument in ("--lang", "-l"):
            value = arguments[index + 1] if index + 1 < len(arguments) else ""
        elif argument.startswith("--lang="):
            value = argument.partition("=")[2]
        elif argument.startswith("-l") and not argument.startswith("--"):
            value = argument[2:]
        else:
            continue
        with contextlib.suppress(ValueError):
            chosen = i18n.check_language(value)
    return chosen


def show_click_error(exc: Exception, lang: str) -> None:
    """A Click exception as our usage errors look: the error in ``lang``, then the command's
    usage and where its help is. In English with no words of ours for it, Click's own text."""
    log.info("usage error: %s", exc.format_message())
    message = _click_message(exc, lang)
    if message is None:
        message = (exc.format_message() if lang == i18n.Language.EN.value
                   else i18n.text("cli.bad_usage", lang))
    err.print(Text(f"photocheck: {i18n.text('cli.usage_error', lang)}: {message}",
                   style="bold red"))
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        pieces = " ".join(ctx.command.collect_usage_pieces(ctx))
        err.print(Text(f"{i18n.text('cli.usage', lang)}: {ctx.command_path} {pieces}".rstrip()))
        err.print(Text(i18n.text("cli.help_hint", lang).format(command=ctx.command_path),
                       style="dim"))


def _click_message(exc: Exception, lang: str) -> str | None:
    """What went wrong, in ``lang``, for the kinds of usage error Click raises; None for one
    this function does not know."""
    def say(key: str, **fields: object) -> str:
        return i18n.text(key, lang).format(**fields)

    if isinstance(exc, _click_errors.NoSuchOption):
        message = say("cli.unknown_option", name=exc.option_name)
        if exc.possibilities:
            message += " " + say("cli.did_you_mean", choices=", ".join(exc.possibilities))
        return message
    if isinstance(exc, _click_errors.BadOptionUsage):
        return say("cli.needs_value" if "requires" in exc.message else "cli.bad_value",
                   name=exc.option_name)
    if isinstance(exc, _click_errors.BadParameter):  # MissingParameter too
        name = _parameter_name(exc)
        if isinstance(exc, _click_errors.MissingParameter):
            return say("cli.missing", name=name)
        if exc.param is None:  # raised by a command itself: its text is its own
            return None
        kind = _parameter_kind(exc.param)
        if kind.choices:
            return say("cli.bad_choice", name=name, choices=", ".join(kind.choices))
        if kind.low is not None or kind.high is not None:
            return say("cli.bad_range", name=name, range=_range_words(kind, lang))
        if kind.number:
            return say("cli.bad_number", name=name)
        if kind.path:
            return say("cli.bad_path", name=name)
        return say("cli.bad_value", name=name)
    if isinstance(exc, _click_errors.UsageError):
        text = exc.format_message()
        unknown = re.match(r"No such command '(.+?)'", text)
        if unknown and exc.ctx is not None:
            commands = ", ".join(exc.ctx.command.list_commands(exc.ctx))
            return say("cli.unknown_command", name=unknown.group(1), commands=commands)
        extra = re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", text)
        if extra:
            return say("cli.extra_arguments", arguments=extra.group(1))
    return None


def _parameter_name(exc: Exception) -> str:
    """The parameter an error is about as a person types it: ``--lang``, ``PATH``."""
    param = exc.param
    if param is None:
        hint = exc.param_hint
        return hint if isinstance(hint, str) else " / ".join(hint or ())
    if param.param_type_name == "option":
        return max(param.opts, key=len)
    return getattr(param, "display_name_raw", None) or param.human_readable_name


@dataclasses.dataclass(frozen=True)
class _ParameterKind:
    """What values a parameter takes, as far as an error message needs it."""

    choices: tuple[str, ...] = ()
    low: float | None = None  # inclusive bounds of a number
    high: float | None = None
    number: bool = False
    path: bool = False


def _parameter_kind(param) -> _ParameterKind:
    """The :class:`_ParameterKind` of a Typer parameter: Typer 0.2x+ describes it with a
    ``type_descriptor``, older Typer with a Click type."""
    described = getattr(param, "type_descriptor", None)
    if described is not None:
        info = described.parameter_info
        annotation = described.annotation
        number_types = {int, float}
        number = annotation in number_types or bool(set(typing.get_args(annotation))
                                                    & number_types)
        return _ParameterKind(
            choices=tuple(str(getattr(c, "value", c)) for c in described.choices or ()),
            low=info.min if described.is_ranged else None,
            high=info.max if described.is_ranged else None,
            number=number, path=described.is_path)
    kind = param.type
    open_bound = getattr(kind, "min_open", False) or getattr(kind, "max_open", False)
    return _ParameterKind(
        choices=tuple(str(c) for c in getattr(kind, "choices", ()) or ()),
        low=None if open_bound else getattr(kind, "min", None),
        high=None if open_bound else getattr(kind, "max", None),
        number=getattr(kind, "name", "") in ("integer", "float"),
        path=type(kind).__name__ == "Path")


def _range_words(kind: _ParameterKind, lang: str) -> str:
    """``antara 1 dan 65535``, ``paling sedikit 1``: the bounds of a number in words."""
    if kind.low is not None and kind.high is not None:
        return i18n.text("cli.range_between", lang).format(low=plain_number(kind.low, lang),
                                                           high=plain_number(kind.high, lang))
    if kind.low is not None:
        return i18n.text("cli.range_at_least", lang).format(low=plain_number(kind.low, lang))
    return i18n.text("cli.range_at_most", lang).format(high=plain_number(kind.high, lang))


def plain_number(value: float, lang: str) -> str:
    """A threshold for a reader: as many decimals as it has (``0,3`` in ``id``)."""
    shown = f"{value:g}"
    decimals = len(shown.partition(".")[2]) if "e" not in shown else 6
    return i18n.format_number(value, lang, decimals)
