"""Write CKAN actions (POST only). Who may do what is in ``catalog.permissions``.

Uploads (multipart ``upload``) to a contract-backed dataset are a department submitting data:
the file is queued for the contract pipeline, never written to the warehouse here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select
from starlette.datastructures import UploadFile

from catalog import activity, clients, editing, inputs, lookup, organizations, permissions, service, uploads
from catalog.ckan import group_dict, organization_dict, package_dict, resource_dict
from catalog.errors import invalid
from catalog.models import ApiKey, Dataset, Resource
from exchange_api.ckan_actions import ActionError, Context, action, required
from hub.errors import NotFound


def _dataset(ctx: Context, ref: Any) -> Dataset:
    try:
        return service.dataset(ctx.session, str(ref))
    except NotFound:
        raise ActionError(404, "Not Found Error", "Not found") from None


def _pkg(ctx: Context, ds: Dataset) -> dict[str, Any]:
    return package_dict(ds, ctx.settings.base_url)


@action("package_create", read_only=False)
def package_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Create a catalogue-only dataset (no warehouse data): ``name``, ``owner_org``, ``title``, ``notes``,
    ``tags``, ``groups``, ``resources``, ``extras`` and the catalogue elements (``sharing_type``,
    ``open_type``, ``update_frequency``, ``fields`` …). Stewards, or publishers of the organization."""
    ds = editing.create_package(ctx.session, params, ctx.caller, ctx.settings.active_contracts_dir)
    return _pkg(ctx, ds)


@action("package_update", read_only=False)
def package_update(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Replace a dataset's metadata (``id`` or ``name``). Contract-derived values may be resent but not
    changed; omitted ``resources`` and ``groups`` are kept."""
    ds = _dataset(ctx, params.get("id") or required(params, "name"))
    editing.update_package(
        ctx.session, ds, params, ctx.caller, ctx.settings.active_contracts_dir, "changed with package_update"
    )
    return _pkg(ctx, ds)


@action("package_patch", read_only=False)
def package_patch(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Change only the given keys of a dataset (``id`` or ``name``)."""
    ds = _dataset(ctx, params.get("id") or required(params, "name"))
    data = {k: v for k, v in params.items() if k != "id"}
    editing.patch_package(ctx.session, ds, data, ctx.caller, ctx.settings.active_contracts_dir)
    return _pkg(ctx, ds)


@action("package_delete", read_only=False)
def package_delete(ctx: Context, params: dict[str, Any]) -> None:
    """Delete a catalogue-only dataset (``id``); contract-backed datasets are retired in their contract."""
    editing.delete_package(ctx.session, _dataset(ctx, required(params, "id")), ctx.caller)


def _upload(params: dict[str, Any]) -> uploads.Incoming | None:
    value = params.get("upload")
    if isinstance(value, UploadFile):
        return uploads.Incoming(value.filename or "upload", value.file)
    if value not in (None, ""):
        raise invalid("upload", "send the file as a multipart/form-data part named upload")
    return None


def _submit(ctx: Context, ds: Dataset, res: Resource, upload: uploads.Incoming) -> dict[str, Any]:
    """A department's export for a contract-backed dataset: into the inbox, queued for the pipeline."""
    permissions.require_edit(ctx.caller, ds.organization, f"submit data to {ds.name}")
    caller = permissions.require_key(ctx.caller, f"submit data to {ds.name}")
    contract = ctx.contracts.get(ds.key)
    sub = uploads.submit(ctx.session, ctx.settings, contract, ds, upload, caller)
    message = f"export {sub.file} uploaded: {sub.status}"
    activity.record(ctx.session, ds, activity.CHANGED, message, by=caller, upload=dataclasses.asdict(sub))
    return resource_dict(res, ctx.settings.base_url) | {
        "upload_status": sub.status,
        "upload": {"file": sub.file, "sha256": sub.sha256, "size": sub.size},
        "note": sub.note,
    }


def _stored(ctx: Context, ds: Dataset, rid: str, upload: uploads.Incoming) -> dict[str, Any]:
    permissions.require_edit(ctx.caller, ds.organization, f"upload files to {ds.name}")
    caller = permissions.require_key(ctx.caller, f"upload files to {ds.name}")
    name, size, mimetype = uploads.store(ctx.session, ctx.settings, ds, rid, upload, caller)
    url = f"/dataset/{ds.id}/resource/{rid}/download/{name}"
    return {"url": url, "url_type": "upload", "size": size, "mimetype": mimetype}


def _target(ds: Dataset) -> Resource:
    """The resource a submitted export ends up in: the dataset's table."""
    generated = [r for r in ds.resources if r.generated]
    return generated[-1] if generated else ds.resources[0]


@action("resource_create", read_only=False)
def resource_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Add a resource to ``package_id``. With a multipart ``upload`` to a contract-backed dataset, the
    file is queued for the contract pipeline (the answer says so in ``note``) instead."""
    ds = _dataset(ctx, required(params, "package_id"))
    wanted = inputs.resource(params).id  # a supplied id must be a canonical UUID, whatever else is sent
    upload = _upload(params)
    if upload is not None and ds.from_contract:
        return _submit(ctx, ds, _target(ds), upload)
    rid = uploads.new_resource_id(ctx.session, wanted)
    data = {k: v for k, v in params.items() if k != "upload"} | {"id": rid}
    if upload is not None:
        data |= _stored(ctx, ds, rid, upload)
        data.setdefault("name", upload.filename)
    res = editing.add_resource(ctx.session, ds, data, ctx.caller, resource_id=rid)
    return resource_dict(res, ctx.settings.base_url)


def _change_resource(ctx: Context, params: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    res = lookup.resource(ctx.session, str(required(params, "id")))
    upload = _upload(params)
    if upload is not None and res.dataset.from_contract:
        return _submit(ctx, res.dataset, res, upload)
    data = {k: v for k, v in params.items() if k != "upload"}
    if upload is not None:
        data |= _stored(ctx, res.dataset, res.id, upload)
    editing.update_resource(ctx.session, res, data, ctx.caller, patch=patch)
    return resource_dict(res, ctx.settings.base_url)


@action("resource_update", read_only=False)
def resource_update(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Replace a resource (``id``); a multipart ``upload`` to a contract-backed dataset is queued for
    its contract pipeline. Resources generated from a contract cannot be edited."""
    return _change_resource(ctx, params, patch=False)


@action("resource_patch", read_only=False)
def resource_patch(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Change only the given keys of a resource (``id``); uploads as for resource_update."""
    return _change_resource(ctx, params, patch=True)


@action("resource_delete", read_only=False)
def resource_delete(ctx: Context, params: dict[str, Any]) -> None:
    """Delete a resource (``id``) of a dataset; generated resources cannot be deleted."""
    editing.delete_resource(ctx.session, lookup.resource(ctx.session, str(required(params, "id"))), ctx.caller)


@action("organization_create", read_only=False)
def organization_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Create a department (stewards): ``name``, ``title``, ``description``, ``department_code``
    (提供方代码; defaults to the name)."""
    return organization_dict(organizations.create_organization(ctx.session, params, ctx.caller), package_count=0)


@action("organization_update", read_only=False)
def organization_update(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Update a department (stewards); names coming from contracts stay as the contracts say."""
    org = lookup.organization(ctx.session, str(required(params, "id")))
    return organization_dict(organizations.update_organization(ctx.session, org, params, ctx.caller))


@action("group_create", read_only=False)
def group_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Create a theme group (stewards): ``name``, ``title``, ``description``."""
    return group_dict(organizations.create_group(ctx.session, params, ctx.caller), package_count=0)


@action("group_update", read_only=False)
def group_update(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Update a group's name, title and description (stewards); its datasets are not touched."""
    group = lookup.group(ctx.session, str(required(params, "id")))
    return group_dict(organizations.update_group(ctx.session, group, params, ctx.caller))


@action("api_token_create", read_only=False)
def api_token_create(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Issue a new key for ``user`` (yourself, or anyone for stewards) labelled ``name``; shown once."""
    caller = permissions.require_key(ctx.caller, "create API tokens")
    user = lookup.user(ctx.session, str(required(params, "user")))
    if user.id != caller.id:
        permissions.require_steward(caller, f"create tokens for {user.name}")
    token = clients.issue_key(
        ctx.session,
        user,
        str(required(params, "name")),
        lifetime_days=ctx.settings.key_lifetime_days,
        minted_by=ctx.key,
    )
    return {"token": token}


def _key(ctx: Context, params: dict[str, Any]) -> ApiKey:
    if params.get("jti"):
        key = ctx.session.get(ApiKey, str(params["jti"]))
    else:
        token = str(required(params, "token"))
        key = ctx.session.scalar(select(ApiKey).where(ApiKey.key_hash == clients.hash_key(token)))
    if key is None:
        raise ActionError(404, "Not Found Error", "API token not found")
    return key


@action("api_token_revoke", read_only=False)
def api_token_revoke(ctx: Context, params: dict[str, Any]) -> None:
    """Revoke a key given as ``token`` or by its id ``jti``: your own, or anyone's for stewards."""
    caller = permissions.require_key(ctx.caller, "revoke API tokens")
    key = _key(ctx, params)
    if key.client_id != caller.id:
        permissions.require_steward(caller, "revoke other users' tokens")
    clients.revoke(ctx.session, key)  # and every key minted from it


@action("api_token_list")
def api_token_list(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Keys of ``user`` (yourself, or anyone for stewards): ids, labels and prefixes, never the keys."""
    caller = permissions.require_key(ctx.caller, "list API tokens")
    ref = params.get("user") or params.get("user_id")
    user = caller if not ref else lookup.user(ctx.session, str(ref))
    if user.id != caller.id:
        permissions.require_steward(caller, f"list tokens of {user.name}")
    return [
        {
            "id": k.id,
            "name": k.label,
            "prefix": k.prefix,
            "created_at": k.created.isoformat(),
            "expires_at": k.expires_at.isoformat() if k.expires_at else None,
            "minted_by": k.minted_by,
            "user_id": user.id,
        }
        for k in user.keys
        if k.revoked_at is None
    ]
