"""A message for a person, kept as a catalogue key until the reader's language is known.

Code deep inside a run (batch inputs, result files, the policy loader's callers) does not know
the language of whoever reads its notes and errors; it makes a :class:`Message` instead of a
sentence. As a :class:`str` the message is its English text with the technical detail, for
logs, exceptions and JSON; :meth:`Message.text` gives what a person reads in ``--lang``.

    >>> str(Message("cli.no_images_in", where="arsip/"))
    'No image files in arsip/.'
    >>> Message("cli.no_images_in", where="arsip/").text("id")
    'Tidak ada berkas gambar di arsip/.'
"""

from __future__ import annotations

from typing import Any

from . import i18n


class Message(str):
    """The text of catalogue key ``key`` of :mod:`photocheck.i18n`, its ``{name}`` fields
    filled from ``fields``; ``detail`` is English technical detail (an exception's text)."""

    key: str
    fields: dict[str, Any]
    detail: str

    def __new__(cls, key: str, detail: str = "", **fields: Any) -> Message:
        self = super().__new__(cls, _render(key, detail, fields, "en"))
        self.key, self.detail, self.fields = key, detail, fields
        return self

    def text(self, lang: str | i18n.Language = i18n.DEFAULT_LANGUAGE) -> str:
        """What a person reads in ``lang``. With a detail: in English the detail itself, in
        another language where to find it (it stays English: it comes from a library)."""
        return _render(self.key, self.detail, self.fields, lang)

    def __reduce__(self):  # a str subclass with attributes: pickle it by its parts
        return _rebuild, (self.key, self.detail, self.fields)


def _rebuild(key: str, detail: str, fields: dict[str, Any]) -> Message:
    return Message(key, detail, **fields)


def _render(key: str, detail: str, fields: dict[str, Any], lang: str | i18n.Language) -> str:
    sentence = i18n.text(key, lang).format(**fields)
    if not detail:
        return sentence
    before = i18n.text("cli.detail", lang)  # in English the label of the detail
    english = i18n.check_language(lang) == i18n.Language.EN.value
    return f"{sentence} {before} {detail}" if english else f"{sentence} {before}"


def text_of(message: str, lang: str | i18n.Language = i18n.DEFAULT_LANGUAGE) -> str:
    """``message`` in ``lang`` when it is a :class:`Message`; any other text as it is."""
    return message.text(lang) if isinstance(message, Message) else message
