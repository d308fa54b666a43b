"""What Great Expectations says about each checked file: its validation result, kept as GX wrote
it (:mod:`quality.results`), and the Data Docs site GX renders from those results (:mod:`quality.docs`)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from contracts.model import Contract
from hub.settings import Settings

if TYPE_CHECKING:
    from ingest.outcome import FileOutcome

log = logging.getLogger(__name__)


def keep(
    settings: Settings, contract: Contract, checked: FileOutcome, batches: list[tuple[int, Any]]
) -> dict[str, Any]:
    """Keep GX's result of a checked file (``checked``: the check's summary) and add its page to the
    dataset's Data Docs; what the catalogue records of it. A Data Docs build that fails is logged
    and leaves the file's fate alone: the result is kept, and ``build`` can be run again."""
    from quality import docs, results

    sha = checked.sha256
    result = results.record(
        batches,
        contract,
        file=checked.file,
        sha256=sha,
        checked_at=(checked.checked_at or dt.datetime.now(dt.UTC)).isoformat(),
        status=checked.status.value,
    )
    results.write(settings, contract.id, sha, result)
    try:
        docs.build(settings, contract.id, sha)
        page: str | None = docs.page(result)
    except Exception:  # the docs are a view of the kept result; never the reason a file fails
        log.exception("Data Docs of %s were not rebuilt for %s", contract.id, checked.file)
        page = None
    return results.summary(result, page)
