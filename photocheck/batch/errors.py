"""What goes wrong with the inputs or output of a batch run, as the user gave them."""

from __future__ import annotations

from ..messages import Message


class BatchError(Exception):
    """A problem with the inputs or the output as given: a usage error, reported before or
    instead of judging. ``message`` is a :class:`~photocheck.messages.Message` (its English
    text is the exception's text; ``message.text(lang)`` what a person reads); ``param`` names
    the command-line parameter at fault."""

    def __init__(self, message: Message, param: str = "INPUT") -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def __reduce__(self):
        return type(self), (self.message, self.param)


def describe(exc: BaseException) -> str:
    """An exception as one line for a message: its type, and its text when it has one."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
