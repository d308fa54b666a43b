"""Errors raised by the standards package."""

from __future__ import annotations


class UnknownStandard(LookupError):
    """A standard, code table or table version that the hub does not know.

    The message lists the names (or versions) that are known, so a typo in a
    contract is fixed from the error alone.
    """

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(f"unknown {kind} {name!r}; known: {', '.join(known)}")
