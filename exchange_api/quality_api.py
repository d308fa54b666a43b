"""GX's validation results and Data Docs of a dataset, for data stewards and the publishing department.

* ``GET /api/v1/datasets/{ref}/versions/{number}/validation``: the GX result of the file that
  became the version (``quality/results.py``: GX's JSON, sample values of masked fields masked).
* ``GET /api/v1/datasets/{ref}/quality/docs/{page}``: the dataset's Data Docs site, read-only;
  an empty page or a folder is its ``index.html``. Pages are served under a policy that loads
  nothing from elsewhere and runs no script (GX's pages link CDN scripts; they are not loaded).

Other callers get 403 (401 without a key), whatever the dataset's sharing type: the results name
rejected rows and values, which are the department's business and the stewards'. Each result and
each page read is audited (actions ``validation`` and ``data_docs``; a page's styles and images
are not).

* ``GET /api/v1/datasets/{ref}/quality``: the quality history per version (counts, issues by rule
  and column, completeness), freshness and score (``quality/history.py``). It holds counts, no
  records or values, so it follows the catalogue's metadata visibility: anyone for a public
  dataset, any identified caller for a private one.
* ``GET /api/v1/reports/ratios?month=YYYY-MM``: the platform ratios (``stewardship/ratios.py``),
  for data stewards.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from access import audit
from catalog import permissions, service
from catalog.models import ApiClient, Dataset
from contracts import model
from exchange_api.deps import SESSION, get_settings, optional_client, require_client
from exchange_api.responses import JSONResponse
from hub.errors import Forbidden, NotAuthorized, NotFound
from hub.settings import Settings
from quality import docs, history, results
from stewardship import ratios

router = APIRouter(prefix="/api/v1", tags=["quality"])

DOCS_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""Data Docs pages: the site's own styles, images and fonts; no script runs, nothing loads from elsewhere."""


def _audit(
    s: Session, settings: Settings, request: Request, caller: ApiClient, ds: Dataset, action: str, what: str, **kw: Any
) -> None:
    """The read of a result or a page: sample values of rejected rows leave with it (rows: none)."""
    rid = getattr(request.state, "request_id", None)
    event = audit.Event(action=action, **audit.who(caller), dataset=ds.key, rows=0, request_id=rid, query=what, **kw)
    audit.write(s, settings, event)


def _readable(s: Session, ref: str, caller: ApiClient) -> Dataset:
    ds = service.dataset(s, ref)
    if not (permissions.is_steward(caller) or permissions.member_of(caller, ds.organization)):
        raise Forbidden(f"the validation results of {ds.name} are for data stewards and {ds.organization.title} only")
    return ds


@router.get("/datasets/{ref}/versions/{number}/validation", summary="GX validation result of a version")
def version_validation(
    ref: str,
    number: int,
    request: Request,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> Response:
    """Great Expectations' result (``ExpectationSuiteValidationResult`` JSON) of the file that became
    version ``number``; ``meta.hub`` names the file. Stewards and the publishing department only."""
    ds = _readable(s, ref, caller)
    version = next((v for v in ds.versions if v.number == number), None)
    if version is None:
        raise NotFound(f"{ds.name} has no version {number}")
    path = results.result_path(settings, ds.key, version.source_sha256)
    if not path.is_file():
        raise NotFound(f"version {number} of {ds.name} has no kept validation result (it was not checked by a file)")
    body = path.read_bytes()
    _audit(s, settings, request, caller, ds, "validation", f"version {number}", version=number)
    return Response(body, media_type="application/json")


@router.get("/datasets/{ref}/quality/docs/{page:path}", summary="GX Data Docs of a dataset")
def data_docs(
    ref: str,
    page: str,
    request: Request,
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> FileResponse:
    """A file of the dataset's Data Docs site (``index.html`` for an empty page); each version's
    page is linked from its catalogue entry (``validation.data_docs``). Stewards and the
    publishing department only."""
    ds = _readable(s, ref, caller)
    path = docs.resolve(settings, ds.key, page)
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media == "text/html":
        _audit(s, settings, request, caller, ds, "data_docs", page or "index.html")
    return FileResponse(path, media_type=media, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/datasets/{ref}/quality", summary="Quality history, freshness and score of a dataset")
def dataset_quality(
    ref: str,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Per version (newest first): rows read, accepted and rejected, issues by rule and by column,
    completeness per field; freshness against the contract's update frequency (periods on time,
    late, missing; ``late`` flags the dataset); the quality score and its formula. Counts only:
    readable by whoever may read the dataset's catalogue entry."""
    ds = service.dataset(s, ref)
    if not permissions.can_read(caller, ds):
        raise NotAuthorized(f"dataset {ref!r} is not open: send an API key to read its metadata")
    if history.fill_completeness(settings, ds):
        s.commit()  # kept before the answer leaves, so the next reader finds it
    return JSONResponse(history.dataset_quality(ds).model_dump(mode="json"))


@router.get("/reports/ratios", summary="Platform ratios per department (stewards)")
def ratios_report(
    month: str | None = Query(None, description="YYYY-MM; default: the current month, so far"),
    caller: ApiClient = Depends(require_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Collection and sharing ratios per department and overall against the 80 % target, with each
    base dataset's standing; ``hub report ratios`` writes the same as CSV and a chart."""
    permissions.require_steward(caller, "read the platform ratios")
    report = ratios.ratios(s, month, contracts=model.load_all(settings.active_contracts_dir))
    return JSONResponse(report.model_dump(mode="json"))
