"""The typed result every validator returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """Outcome of checking one value against one standard.

    ``rule`` is a short machine name such as ``"gb11643.check_digit"``; when the
    value is valid it names the standard (``"gb11643"``). ``reason`` is an
    English sentence naming the fault (and, where useful, the expected value);
    it is ``None`` when the value is valid.
    """

    ok: bool
    rule: str
    reason: str | None = None


def passed(standard: str) -> Check:
    """The result for a valid value."""
    return Check(ok=True, rule=standard)


def failed(rule: str, reason: str) -> Check:
    """The result for an invalid value: which rule failed and why."""
    return Check(ok=False, rule=rule, reason=reason)
