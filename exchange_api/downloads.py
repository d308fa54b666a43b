"""Files uploaded to catalogue-only resources, served at CKAN's download URL."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from access import audit
from access.policy import require_shared, sharing_of
from catalog import lookup, permissions, uploads
from catalog.models import ApiClient
from exchange_api.deps import SESSION, get_settings, optional_client
from hub.errors import NotAuthorized, NotFound
from hub.settings import Settings

router = APIRouter(tags=["ckan"])


@router.get("/dataset/{dataset_id}/resource/{resource_id}/download/{filename}", summary="Download an uploaded file")
def download(
    request: Request,
    dataset_id: str,
    resource_id: str,
    filename: str,
    caller: ApiClient | None = Depends(optional_client),
    s: Session = SESSION,
    settings: Settings = Depends(get_settings),
) -> FileResponse:
    """The file of an uploaded resource; private datasets need a key, as their metadata does, and
    不予共享 datasets are served to their own department and stewards only."""
    res = lookup.resource(s, resource_id)
    if res.dataset_id != dataset_id or res.extra.get("url_type") != "upload":
        raise NotFound(f"no uploaded file for resource {resource_id}")
    if not permissions.can_read(caller, res.dataset):
        raise NotAuthorized("an API key is required to download files of this dataset")
    require_shared(caller, res.dataset, sharing_of(res.dataset))
    if filename != (res.url or "").rsplit("/", 1)[-1]:
        raise NotFound(f"file {filename} not found for resource {resource_id}")
    path = uploads.stored_file(s, settings, res, filename)
    event = audit.Event(
        action="download",
        **audit.who(caller),
        dataset=res.dataset.key,
        rows=0,
        fields=[f"file:{path.name}"],
        request_id=getattr(request.state, "request_id", None),
        query=f"{resource_id}/{filename}",
    )
    audit.write(s, settings, event)  # anonymous downloads of public files are recorded too
    return FileResponse(path, media_type=res.extra.get("mimetype"), filename=path.name)
