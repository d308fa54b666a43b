"""The licences a dataset can carry, how each is named in a contract, in CKAN and in DCAT, and the
licence of a derived dataset: the strictest licence of its inputs (see docs/catalogue.md).

A contract names its licence in ``customProperties`` (``licence``): ``CC-BY-4.0`` or
``政务共享数据使用协议``. CKAN knows them by ``license_id`` (``cc-by``, ``gov-sharing``); DCAT by URI
(Creative Commons' own URI; the hub's ``/licence/gov-sharing``, which answers with the terms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog.models import Dataset
from hub.errors import InputError

if TYPE_CHECKING:
    from contracts.model import Contract


@dataclass(frozen=True)
class Licence:
    id: str
    """CKAN ``license_id``; also the last part of the hub's URI for licences it defines."""
    contract_value: str
    """How a contract names it (``customProperties`` ``licence``)."""
    title: str
    title_en: str
    strictness: int
    """Higher is stricter: a dataset built from inputs carries the strictest of their licences."""
    url: str | None = None
    """The licence's own URI; None for the hub's own terms (served at ``{site}/licence/{id}``)."""
    text: str = ""
    text_en: str = ""

    def uri(self, base_url: str) -> str:
        return self.url or f"{base_url.rstrip('/')}/licence/{self.id}"

    def ckan(self, base_url: str) -> dict[str, str]:
        """As CKAN's ``license_list`` shows a licence."""
        return {
            "id": self.id,
            "title": self.title,
            "url": self.uri(base_url),
            "status": "active",
            "od_conformance": "approved" if self.url else "not reviewed",
            "osd_conformance": "not reviewed",
        }


CC_BY = Licence(
    id="cc-by",
    contract_value="CC-BY-4.0",
    title="Creative Commons Attribution 4.0 (CC BY 4.0)",
    title_en="Creative Commons Attribution 4.0 International",
    strictness=0,
    url="http://creativecommons.org/licenses/by/4.0/",
)
GOV_SHARING = Licence(
    id="gov-sharing",
    contract_value="政务共享数据使用协议",
    title="政务共享数据使用协议",
    title_en="Government data-sharing agreement",
    strictness=1,
    text=(
        "本协议适用于东城区公共基础数据共享交换平台共享的政务数据。使用方仅可在申请时载明的用途和期限内、"
        "于履行职责所必需的范围内使用数据；不得向第三方提供、公开或用于商业目的；须落实数据安全保护措施，"
        "敏感字段保持脱敏，未经授权不得还原；使用情况接受平台审计，用途结束或授权到期后应删除数据；"
        "发布基于本数据的成果须注明数据来源。"
    ),
    text_en=(
        "These terms apply to government data shared through the Dongcheng base-data hub. The data may be "
        "used only for the purpose and period stated in the access request and only as far as the user's "
        "public duties require; it may not be passed to third parties, published or used commercially; the "
        "user keeps it secure, keeps sensitive fields masked and does not reverse masking without a grant; "
        "use is audited by the hub, and the data is deleted when the purpose ends or the grant expires; "
        "results built on it name their source."
    ),
)
LICENCES = (CC_BY, GOV_SHARING)
DEFAULT = GOV_SHARING
"""A dataset that names no licence is shared under the government terms (the strictest)."""


def named(value: str) -> Licence:
    """The licence a contract or a CKAN caller names, by contract value, CKAN id, title or URI."""
    for licence in LICENCES:
        if value.strip() in {licence.contract_value, licence.id, licence.title, licence.url}:
            return licence
    known = ", ".join(f"{lic.contract_value} ({lic.id})" for lic in LICENCES)
    raise InputError(f"unknown licence {value!r}; known: {known}", rule="licence")


def by_id(licence_id: str) -> Licence | None:
    return next((lic for lic in LICENCES if lic.id == licence_id), None)


def strictest(licences: Iterable[Licence]) -> Licence:
    """The strictest of ``licences`` (government terms over CC BY); the default for none."""
    return max(licences, key=lambda lic: lic.strictness, default=DEFAULT)


def for_contract(contract: Contract, find: Callable[[str], Contract | None]) -> Licence:
    """The licence a contract's dataset carries. A base dataset: the one its contract names (the
    default when none). A derived dataset: the strictest of the one its contract names and of
    each input's, followed through the inputs' own lineage; ``find`` gives an input's contract,
    and an input it cannot find counts as the strictest licence."""
    return _through_lineage(contract, find, ())


def _through_lineage(contract: Contract, find: Callable[[str], Contract | None], path: tuple[str, ...]) -> Licence:
    if contract.id in path:
        raise InputError(f"lineage of {path[0]!r} loops through {contract.id!r}", rule="derivedFrom")
    own = [named(contract.licence)] if contract.licence else []
    if not contract.derived_from:
        return own[0] if own else DEFAULT
    inputs = []
    for dataset in contract.derived_from:
        found = find(dataset)
        inputs.append(strictest(()) if found is None else _through_lineage(found, find, (*path, contract.id)))
    return strictest([*own, *inputs])


def of_dataset(ds: Dataset) -> Licence | None:
    """A catalogue dataset's licence: the one of the CKAN ``license_id`` it was given (None when
    the hub does not know that id), else the one its contract or ``license_title`` names, else
    the default."""
    given = ds.meta.get("license_id")
    if given:
        return by_id(str(given))
    if ds.licence:
        found = next((lic for lic in LICENCES if ds.licence.strip() in {lic.contract_value, lic.title, lic.id}), None)
        if found:
            return found
    return DEFAULT
