"""One root for every error the hub raises on purpose, with the context kept."""

from __future__ import annotations


class HubError(Exception):
    """Root of the hub's errors. ``retryable`` says whether trying again may help."""

    retryable = False


class ConfigError(HubError):
    """The hub is set up wrongly (a setting, a missing folder, a broken install)."""


class ContractError(HubError):
    """A data contract cannot be loaded or is inconsistent."""

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None):
        self.path = path
        self.field = field
        where = ", ".join(p for p in (path and f"file {path}", field and f"field {field}") if p)
        super().__init__(f"{where}: {message}" if where else message)


class InputError(HubError):
    """A department's file cannot be read or fails a rule; names file, row, column and rule."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        rule: str | None = None,
    ):
        self.file, self.row, self.column, self.rule = file, row, column, rule
        parts = [
            f"file {file}" if file else None,
            f"row {row}" if row is not None else None,
            f"column {column}" if column else None,
            f"rule {rule}" if rule else None,
        ]
        where = ", ".join(p for p in parts if p)
        super().__init__(f"{where}: {message}" if where else message)


class NotFound(HubError):
    """A dataset, version, resource or client does not exist."""


class NotAuthorized(HubError):
    """The caller is not identified or not allowed to do this."""


class Forbidden(NotAuthorized):
    """Identified, but not allowed (HTTP 403; CKAN's Authorization Error)."""


class VersionGone(HubError):
    """A pinned dataset version is no longer served."""


class TooLarge(HubError):
    """A request, upload or quota is over its limit (HTTP 413)."""


class BadParameter(InputError):
    """A request parameter out of its range or shape (HTTP 400; CKAN: 409 Validation Error)."""

    def __init__(self, message: str, *, column: str | None = None, rule: str | None = None):
        self.file, self.row, self.column, self.rule = None, None, column, rule
        self.detail = message
        Exception.__init__(self, message)


class Conflict(HubError):
    """The thing is not in a state that allows this (HTTP 409), e.g. a request already decided."""


class RateLimited(HubError):
    """Over a rate limit (HTTP 429 with ``Retry-After``)."""

    def __init__(self, message: str, retry_after: int):
        self.retry_after = max(1, retry_after)
        super().__init__(message)
