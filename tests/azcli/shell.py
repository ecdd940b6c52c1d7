"""Split a catalog command (bash) into the program invocations it runs, nested ones included.

Only the shell the catalog uses is understood: words, single and double quotes, ``$(...)``
command substitution (nested, inside double quotes too), ``$name`` / ``${name...}`` expansions
one leading ``name=`` assignment and ``<placeholder>`` values the reader supplies. Anything else (pipes, ``;``, ``&&``, redirections,
backticks) is refused, which keeps pasted steps simple. A word made partly of an expansion is
*dynamic*: its value is only known when the shell runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REFUSED = set(";|&<>`")
_PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>")  # a value the reader supplies (see VALUE_WORDS)


class ShellSyntaxError(ValueError):
    """The command uses shell syntax the catalog does not allow."""


@dataclass(frozen=True)
class Word:
    text: str  # the literal text, expansions replaced by "X"
    dynamic: bool = False


@dataclass(frozen=True)
class Invocation:
    words: tuple[Word, ...]

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    def __str__(self) -> str:
        return " ".join(w.text for w in self.words)


def invocations(command: str) -> list[Invocation]:
    """Every program the command runs: the top-level one first, then substitutions in order."""
    found: list[Invocation] = []
    words = _Parser(command, found).command()
    if words:
        found.insert(0, Invocation(tuple(words)))
    return found


class _Parser:
    def __init__(self, text: str, found: list[Invocation]) -> None:
        self.text = text
        self.pos = 0
        self.found = found

    def command(self) -> list[Word]:
        self._skip_spaces()
        match = _ASSIGNMENT.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            self._word()  # the assigned value: its substitutions are recorded
            self._skip_spaces()
            if self.pos < len(self.text):
                raise ShellSyntaxError(f"text after an assignment: {self.text[self.pos :]!r}")
            return []
        words = []
        while self._skip_spaces() < len(self.text):
            words.append(self._word())
        return words

    def _skip_spaces(self) -> int:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        return self.pos

    def _word(self) -> Word:
        parts: list[str] = []
        dynamic = False
        text = self.text
        while self.pos < len(text) and text[self.pos] != " ":
            char = text[self.pos]
            if char == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    raise ShellSyntaxError("unclosed single quote")
                parts.append(text[self.pos + 1 : end])
                self.pos = end + 1
            elif char == '"':
                self.pos += 1
                while True:
                    if self.pos >= len(text):
                        raise ShellSyntaxError("unclosed double quote")
                    inner = text[self.pos]
                    if inner == '"':
                        self.pos += 1
                        break
                    if inner == "$":
                        parts.append(self._expansion())
                        dynamic = True
                    elif inner == "\\":
                        parts.append(text[self.pos + 1 : self.pos + 2])
                        self.pos += 2
                    elif inner == "`":
                        raise ShellSyntaxError("backtick command substitution")
                    else:
                        parts.append(inner)
                        self.pos += 1
            elif char == "$":
                parts.append(self._expansion())
                dynamic = True
            elif char == "<" and _PLACEHOLDER.match(text, self.pos):
                self.pos = _PLACEHOLDER.match(text, self.pos).end()  # type: ignore[union-attr]
                parts.append("X")
                dynamic = True
            elif char in _REFUSED or char == "\\":
                raise ShellSyntaxError(f"unsupported shell syntax {char!r} in {text!r}")
            else:
                parts.append(char)
                self.pos += 1
        return Word("".join(parts), dynamic)

    def _expansion(self) -> str:
        """``$(...)``, ``${...}`` or ``$name`` at ``pos``; substitutions are parsed and recorded."""
        text = self.text
        if text.startswith("$(", self.pos):
            end = _matching_paren(text, self.pos + 2)
            inner = text[self.pos + 2 : end]
            self.found.extend(invocations(inner))
            self.pos = end + 1
            return "X"
        if text.startswith("${", self.pos):
            end = text.find("}", self.pos)
            if end < 0:
                raise ShellSyntaxError("unclosed ${")
            self.pos = end + 1
            return "X"
        match = _NAME.match(text, self.pos + 1)
        if not match:
            raise ShellSyntaxError(f"lone $ in {text!r}")
        self.pos = match.end()
        return "X"


def _matching_paren(text: str, start: int) -> int:
    """The index of the ``)`` closing a ``$(`` whose body starts at ``start``."""
    depth = 1
    pos = start
    quote = ""
    while pos < len(text):
        char = text[pos]
        if quote == "'":
            if char == "'":
                quote = ""
        elif char == "'" and not quote:
            quote = "'"
        elif char == '"':
            quote = "" if quote == '"' else '"'
        elif char == "\\":
            pos += 1
        elif text.startswith("$(", pos):
            depth += 1
            pos += 1
        elif char == ")" and (not quote or depth > 1):
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise ShellSyntaxError(f"unclosed $( in {text!r}")
