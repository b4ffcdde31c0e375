"""Frames: a template rendered once for many emails, cut where each email's own parts go.

An issue's email is the same for every reader in one language but for a few parts (their picks,
their links), and rendering the rest again for each reader was about a third of what writing an
email cost. So the issue's templates are rendered once per language with stand-ins for those
parts (Slots), and each email fills the frame with its own, escaped as the template would have
escaped them.

A stand-in is two control characters around a random mark and the part's name: no merchant's
text contains it, and HTML escaping leaves it as it is. A template that loses one (a filter that
changes it, a branch that drops it) makes a frame that cannot be cut: FrameError, never an email
without its unsubscribe link.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe


class FrameError(Exception):
    pass


@dataclass(frozen=True)
class Frame:
    """Text between the slots, and the slots' names: text, name, text, ..., name, text."""

    pieces: tuple[str, ...]

    def fill(self, parts: Mapping[str, str]) -> str:
        pieces = list(self.pieces)
        pieces[1::2] = [parts[name] for name in self.pieces[1::2]]
        return "".join(pieces)


class Slots:
    """The stand-ins of one rendering: `slots["picks"]` is the stand-in to render in place of a
    reader's picks; `slots.frame(rendered)` cuts the rendered text at them."""

    def __init__(self) -> None:
        self.mark = secrets.token_hex(8)
        self.names: set[str] = set()

    def __getitem__(self, name: str) -> SafeString:
        if not name.isidentifier():
            raise ValueError(f"a slot is named by a word: {name!r}")
        self.names.add(name)
        return mark_safe(f"\x1f{self.mark}:{name}\x1f")  # noqa: S308 - a stand-in, no markup

    def frame(self, rendered: str) -> Frame:
        head, *cut = rendered.split(f"\x1f{self.mark}:")
        pieces = [head]
        for part in cut:
            name, end, text = part.partition("\x1f")
            if not end or name not in self.names:
                raise FrameError(f"the template changed the slot {name!r}")
            pieces += [name, text]
        missing = self.names - set(pieces[1::2])
        if missing:
            raise FrameError(f"the template lost the slots {sorted(missing)}")
        return Frame(tuple(pieces))
