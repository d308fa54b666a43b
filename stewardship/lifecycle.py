"""The rules of a contract's life: its statuses, who may move it from one to the next, and semver.

Pure functions of the caller, the contract and the versions; :mod:`stewardship.registry` applies
them to the stored versions. No web framework here: the API and the CLI both call the registry.

::

    draft ──submit──▶ proposed ──approve──▶ approved ──activate──▶ active ──deprecate──▶ deprecated ──retire──▶ retired
                         │                     │
                         └──────reject─────────┴──▶ rejected

Who may: the contract's department (a publisher of it) drafts, submits and withdraws; only a data
steward approves, rejects, activates, deprecates and retires, and never a change it proposed or
one of its own department (four eyes). Approving activates at once unless a migration date lies
ahead (then ``activate`` on or after it). The version a new active version replaces becomes
``deprecated`` (by the hub, as part of the activation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from catalog.models import ApiClient
from hub.errors import BadParameter, Conflict, Forbidden, InputError


class ContractStatus(StrEnum):
    draft = "draft"
    proposed = "proposed"
    approved = "approved"
    active = "active"
    deprecated = "deprecated"
    retired = "retired"
    rejected = "rejected"


class Party(StrEnum):
    """Who may make a transition."""

    steward = "steward"
    """A data steward that is neither the proposer nor of the contract's department."""
    department = "department"
    """A publisher of the contract's department."""
    either = "either"
    """The department or any steward."""


@dataclass(frozen=True)
class Transition:
    action: str
    source: ContractStatus
    target: ContractStatus
    party: Party


S = ContractStatus
TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", S.draft, S.proposed, Party.either),
    Transition("withdraw", S.proposed, S.draft, Party.either),
    Transition("approve", S.proposed, S.approved, Party.steward),
    Transition("reject", S.proposed, S.rejected, Party.steward),
    Transition("reject", S.approved, S.rejected, Party.steward),
    Transition("activate", S.approved, S.active, Party.steward),
    Transition("deprecate", S.active, S.deprecated, Party.steward),
    Transition("retire", S.deprecated, S.retired, Party.steward),
)
"""Every allowed move; anything else is refused (:class:`TransitionNotAllowed`)."""
ACTIONS = tuple(dict.fromkeys(t.action for t in TRANSITIONS))


class LifecycleError(Conflict):
    """Root of the lifecycle's refusals that are about state, not about the caller (HTTP 409)."""


class TransitionNotAllowed(LifecycleError):
    """The version's status does not allow this action (e.g. approving an active version)."""


class VersionOrder(LifecycleError):
    """A version that does not raise the active one, or that exists already."""


class NotYourChange(Forbidden):
    """The caller's role or department may not make this transition (HTTP 403)."""


class InvalidProposal(InputError):
    """A proposed contract fails the checks the loader applies (HTTP 400); names the path."""


def transition(action: str, source: ContractStatus) -> Transition:
    """The transition ``action`` makes from ``source``, or :class:`TransitionNotAllowed`."""
    if action not in ACTIONS:
        raise BadParameter(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}")
    for t in TRANSITIONS:
        if t.action == action and t.source == source:
            return t
    able = ", ".join(t.source.value for t in TRANSITIONS if t.action == action)
    raise TransitionNotAllowed(f"cannot {action} a {source.value} version (only a version that is {able})")


def of_department(caller: ApiClient, department: tuple[str, ...]) -> bool:
    """A publisher whose organization is the department (by code or name)."""
    return caller.role == "publisher" and bool(caller.organization) and caller.organization in department


def may(caller: ApiClient, t: Transition, department: tuple[str, ...], proposed_by: str | None) -> None:
    """Refuse (:class:`NotYourChange`) a caller the transition's party does not include."""
    who = f"{caller.name} ({caller.role}{', ' + caller.organization if caller.organization else ''})"
    steward = caller.role == "steward"
    if t.party is Party.department and not of_department(caller, department):
        raise NotYourChange(f"{who} may not {t.action}: only the contract's department ({department[0]}) may")
    if t.party is Party.either and not (steward or of_department(caller, department)):
        raise NotYourChange(f"{who} may not {t.action}: only a data steward or the department ({department[0]}) may")
    if t.party is Party.steward:
        if not steward:
            raise NotYourChange(f"{who} may not {t.action}: only a data steward may")
        if caller.name == proposed_by or (caller.organization and caller.organization in department):
            raise NotYourChange(f"{who} may not {t.action} its own department's change: another steward must")


def may_propose(caller: ApiClient, department: tuple[str, ...], current: tuple[str, ...] | None) -> None:
    """Stewards propose for any dataset; a publisher only for its department, for a dataset that
    is its department's already (``current``: the department of the dataset's current version)."""
    if caller.role == "steward":
        return
    who = f"{caller.name} ({caller.role}{', ' + caller.organization if caller.organization else ''})"
    if caller.role != "publisher":
        raise NotYourChange(f"{who} may not propose contracts: a department's publisher or a steward may")
    if not of_department(caller, department) or (current is not None and not of_department(caller, current)):
        owner = (current or department)[0]
        raise NotYourChange(f"{who} may propose contracts of its own department only (this one is {owner}'s)")


SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def semver(version: str) -> tuple[int, int, int]:
    """``MAJOR.MINOR.PATCH`` as numbers; anything else is a :class:`BadParameter`."""
    found = SEMVER.match(str(version).strip())
    if found is None:
        raise BadParameter(f"version {version!r} is not a semantic version MAJOR.MINOR.PATCH (e.g. 1.1.0)")
    return int(found[1]), int(found[2]), int(found[3])


def check_raises(version: str, active: str | None, existing: list[str]) -> None:
    """A new version must be semantic, must not exist yet and must be above the active one."""
    semver(version)
    if version in existing:
        raise VersionOrder(f"version {version} exists already; propose a higher one")
    if active is not None and semver(version) <= semver(active):
        raise VersionOrder(f"version {version} does not raise the active version {active}")


def gate(old_doc: dict[str, Any] | None, new_doc: dict[str, Any]) -> None:
    """The check an approval passes, comparing the active contract with the one approved.

    The new version must raise the old one (semver order). On approval the registry then runs the
    change classification (``stewardship.diff.gate``): a breaking change needs a major bump,
    an explicit steward approval and a migration date.
    """
    if old_doc is None:
        return
    old, new = str(old_doc.get("version", "")), str(new_doc.get("version", ""))
    if semver(new) <= semver(old):
        raise VersionOrder(f"version {new} does not raise the active version {old}")
