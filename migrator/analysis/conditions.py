"""Evaluate the `if:` and `push:` expressions GitHub writes most, for one concrete event.

The answer is three-valued: True, False, or None when the expression depends on something a
snapshot cannot know (a step output, an input, a secret). Only a small, common subset of the
expression language is read: `github.event_name`, `github.ref`, `github.ref_name`, `github.ref_type`,
`github.event.action`, literals, `==`, `!=`, `!`, `&&`, `||`, parentheses, `startsWith`, `endsWith`,
`contains`. Anything else is None, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from migrator.workflow import expressions as ex

Value = str | bool | None
_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\)|,)|(?P<word>[A-Za-z_][\w.\-]*(?:\[[^\]]*\])*))"
)
_FUNCTIONS = frozenset({"startswith", "endswith", "contains"})


class _Unknown(Exception):
    pass


def evaluate(expression: str | None, context: Mapping[str, str]) -> bool | None:
    """True/False when the condition is decided for this event; None when it cannot be known.

    `expression` is an `if:` value (with or without `${{ }}`) or an input such as `push:`.
    A missing expression is True (no condition).
    """
    if expression is None:
        return True
    text = expression.strip()
    inner = ex.whole_expression(text)
    if inner is not None:
        text = inner
    elif "${{" in text:
        return None  # an expression inside a longer string
    if text.lower() in {"true", "false"}:
        return text.lower() == "true"
    try:
        tokens = _tokens(text)
        parser = _Parser(tokens, context)
        value = parser.expression()
        if parser.position != len(tokens):
            return None
    except _Unknown:
        return None
    if value is None:
        return None
    return _truthy(value)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _Unknown
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


def _truthy(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    return value not in {"", "0", "false"} if value is not None else False


class _Parser:
    """Recursive descent over the token list. None inside means 'unknown'; it propagates."""

    def __init__(self, tokens: list[tuple[str, str]], context: Mapping[str, str]) -> None:
        self.tokens = tokens
        self.position = 0
        self.context = context

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Unknown
        self.position += 1
        return token

    def expression(self) -> Value:
        left = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> Value:
        left = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            left = _and(left, right)
        return left

    def comparison(self) -> Value:
        left = self.unary()
        token = self.peek()
        if token in {("op", "=="), ("op", "!=")}:
            self.take()
            right = self.unary()
            if left is None or right is None:
                return None
            same = str(left).lower() == str(right).lower()
            return same if token == ("op", "==") else not same
        return left

    def unary(self) -> Value:
        if self.peek() == ("op", "!"):
            self.take()
            value = self.unary()
            return None if value is None else not _truthy(value)
        return self.primary()

    def primary(self) -> Value:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            value = self.expression()
            if self.take() != ("op", ")"):
                raise _Unknown
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind != "word":
            raise _Unknown
        if self.peek() == ("op", "("):
            return self.call(text.lower())
        lowered = text.lower()
        if lowered in {"true", "false"}:
            return lowered == "true"
        return self.context.get(lowered)  # None: unknown

    def call(self, name: str) -> Value:
        self.take()
        args: list[Value] = [self.expression()]
        while self.peek() == ("op", ","):
            self.take()
            args.append(self.expression())
        if self.take() != ("op", ")"):
            raise _Unknown
        if name not in _FUNCTIONS or len(args) != 2:
            return None  # success(), always(), fromJSON()...: not modelled
        haystack, needle = args
        if haystack is None or needle is None:
            return None
        h, n = str(haystack).lower(), str(needle).lower()
        if name == "startswith":
            return h.startswith(n)
        if name == "endswith":
            return h.endswith(n)
        return n in h


def _or(left: Value, right: Value) -> Value:
    if (left is not None and _truthy(left)) or (right is not None and _truthy(right)):
        return True
    if left is None or right is None:
        return None
    return False


def _and(left: Value, right: Value) -> Value:
    if (left is not None and not _truthy(left)) or (right is not None and not _truthy(right)):
        return False
    if left is None or right is None:
        return None
    return True
