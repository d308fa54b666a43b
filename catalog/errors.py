"""Errors of catalogue actions, in the kinds CKAN distinguishes (see shared/ckan-api.md)."""

from __future__ import annotations

from hub.errors import HubError


class ValidationFailed(HubError):
    """A dataset, resource, organization or group dict is not acceptable: field → messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed({field: [message]})


class SearchQueryError(HubError):
    """A package_search ``q``, ``fq`` or ``sort`` the hub cannot parse."""


class SearchError(HubError):
    """A package_search ``q`` or ``fq`` that is not valid Solr syntax or names an unknown field
    (CKAN answers these from Solr's error: 409 Search Error)."""
