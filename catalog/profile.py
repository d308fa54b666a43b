"""The national catalogue profile (政务信息资源目录): typed elements, vocabularies, the resource-code rule.

Every element is derived from what the hub already holds (the contract, the pipeline's versions,
the organization), so nothing is typed twice. ``docs/catalogue.md`` documents the profile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Dataset


@dataclass(frozen=True)
class Domain:
    """A base-data domain: a CKAN group and the 项 of the national classification."""

    name: str
    title: str
    title_en: str
    item_code: str


# Keep in step with migrations 0002/0003, which seed these groups. 01–05 are the national base
# libraries (人口, 法人单位, 自然资源和空间地理, 社会信用, 电子证照); 06+ are the hub's own.
DOMAINS = {
    d.name: d
    for d in (
        Domain("population", "人口", "Population", "01"),
        Domain("legal_entity", "法人单位", "Legal entities", "02"),
        Domain("spatial", "自然资源和空间地理", "Natural resources and spatial geography", "03"),
        Domain("economy", "宏观经济", "Economy", "06"),
        Domain("buildings", "建筑物", "Buildings", "07"),
    )
}
# Theme libraries (专题库) of derived datasets, by the contract's dataProduct: CKAN theme groups and
# the 项 of the 主题信息资源 class. Unknown data products get a group named from a hash and 项 99.
THEMES = {
    t.title + "专题库": t
    for t in (
        Domain("building-economy", "楼宇经济", "Building economy", "01"),
        Domain("grid-management", "网格化管理", "Grid management", "02"),
        Domain("economic-monitoring", "经济运行监测", "Economic monitoring", "03"),
    )
}
DERIVED_DOMAIN = "derived"
BASE_CLASS = ("1", "基础信息资源")
THEME_CLASS = ("2", "主题信息资源")
DEPARTMENT_CLASS = ("3", "部门信息资源")
CODE_PATTERN = re.compile(r"^\d{3,12}/\d{6}$")

# update frequency → (更新周期, EU frequency authority code used by DCAT)
FREQUENCIES = {
    "realtime": ("实时", "CONT"),
    "daily": ("每日", "DAILY"),
    "weekly": ("每周", "WEEKLY"),
    "monthly": ("每月", "MONTHLY"),
    "quarterly": ("每季度", "QUARTERLY"),
    "halfyearly": ("每半年", "BIANNUAL"),
    "yearly": ("每年", "ANNUAL"),
    "irregular": ("不定期", "IRREG"),
    "on input change": ("随来源数据更新", "IRREG"),
}
# contract logical type → 信息项数据类型 of the catalogue guide
DATA_TYPES = {
    "string": "字符型C",
    "integer": "整型I",
    "number": "数值型N",
    "date": "日期型D",
    "timestamp": "日期时间型T",
    "boolean": "逻辑型L",
    "geometry": "空间几何型",
}
# resource format → 共享方式
SHARING_METHODS = {"JSON": "接口", "API": "接口", "PARQUET": "库表", "ICEBERG": "库表"}


class ResourceClass(BaseModel):
    """信息资源分类: 类 and 项 (the hub does not subdivide into 目 and 细目)."""

    class_code: str
    class_name: str
    item_code: str
    item_name: str


class InformationItem(BaseModel):
    """信息项: name, title and data type, with the hub's classification level."""

    name: str
    title: str
    data_type: str
    type: str
    classification: str
    primary_key: bool = False


class CatalogueRecord(BaseModel):
    """The catalogue guide's elements of one dataset, with English keys."""

    resource_classification: ResourceClass
    title: str
    resource_code: str | None
    provider: str
    provider_code: str
    abstract: str
    formats: list[str]
    information_items: list[InformationItem]
    sharing_type: str
    sharing_condition: str | None
    sharing_method: list[str]
    open_type: str
    update_frequency: str
    update_frequency_label: str
    release_date: dt.date | None
    related_resource_codes: list[str]


# element of the catalogue guide → key in package_show (and in CKAN extras)
ELEMENTS = {
    "信息资源分类": "resource_classification",
    "信息资源名称": "title",
    "信息资源代码": "resource_code",
    "提供方": "provider",
    "提供方代码": "provider_code",
    "摘要": "abstract",
    "格式": "formats",
    "信息项": "information_items",
    "共享类型": "sharing_type",
    "共享条件": "sharing_condition",
    "共享方式": "sharing_method",
    "开放属性": "open_type",
    "更新周期": "update_frequency_label",
    "发布日期": "release_date",
    "关联资源代码": "related_resource_codes",
}


def theme_for(data_product: str | None) -> Domain | None:
    """The theme group of a derived dataset's 专题库 (a stable made-up one for unknown names)."""
    if not data_product:
        return None
    known = THEMES.get(data_product)
    if known is not None:
        return known
    digest = hashlib.sha1(data_product.encode("utf-8")).hexdigest()[:8]
    return Domain(f"theme-{digest}", data_product.removesuffix("专题库"), data_product, "99")


def classify(domain: str, groups: Sequence[str] = ()) -> ResourceClass:
    """类 and 项 of a dataset from its domain (and, for derived datasets, its theme group)."""
    found = DOMAINS.get(domain)
    if found is not None:
        return ResourceClass(
            class_code=BASE_CLASS[0], class_name=BASE_CLASS[1], item_code=found.item_code, item_name=found.title
        )
    themes = [t for t in THEMES.values() if t.name in groups]
    if domain == DERIVED_DOMAIN or themes:
        item = themes[0] if themes else Domain("", "其他主题", "", "99")
        return ResourceClass(
            class_code=THEME_CLASS[0], class_name=THEME_CLASS[1], item_code=item.item_code, item_name=item.title
        )
    return ResourceClass(
        class_code=DEPARTMENT_CLASS[0], class_name=DEPARTMENT_CLASS[1], item_code="00", item_name="部门"
    )


def code_prefix(domain: str, groups: Sequence[str] = ()) -> str:
    """前段码: 类 (1 digit) + 项 (2 digits)."""
    cls = classify(domain, groups)
    return cls.class_code + cls.item_code


def assign_code(s: Session, ds: Dataset) -> str:
    """Give the dataset its 信息资源代码 once: ``前段码/顺序码``, e.g. ``101/000001``.

    The 顺序码 is the next free 6-digit number under the prefix; a code is never changed or reused.
    """
    if ds.resource_code:
        return ds.resource_code
    prefix = code_prefix(ds.domain, [g.name for g in ds.groups])
    taken = s.scalars(select(Dataset.resource_code).where(Dataset.resource_code.like(f"{prefix}/%")))
    numbers = [int(code.split("/", 1)[1]) for code in taken if code and CODE_PATTERN.match(code)]
    ds.resource_code = f"{prefix}/{max(numbers, default=0) + 1:06d}"
    return ds.resource_code


def frequency_label(frequency: str) -> str:
    return FREQUENCIES.get(frequency, (frequency, ""))[0]


def information_items(fields: list[dict[str, Any]]) -> list[InformationItem]:
    return [
        InformationItem(
            name=f["name"],
            title=f.get("title") or f["name"],
            data_type=DATA_TYPES.get(f.get("type", "string"), "字符型C"),
            type=f.get("type", "string"),
            classification=f.get("classification", "internal"),
            primary_key=bool(f.get("primary_key", False)),
        )
        for f in fields
    ]


def _formats(ds: Dataset) -> list[str]:
    return list(dict.fromkeys(r.format for r in ds.resources if r.format))


def _sharing_method(ds: Dataset) -> list[str]:
    if ds.meta.get("sharing_method"):
        return list(ds.meta["sharing_method"])
    methods = [SHARING_METHODS.get(f.upper(), "文件") for f in _formats(ds)]
    return list(dict.fromkeys(methods))


def _release_date(ds: Dataset) -> dt.date | None:
    if ds.versions:
        return ds.versions[0].published_at.date()
    supplied = ds.meta.get("release_date")
    if supplied:
        return dt.date.fromisoformat(str(supplied)[:10])
    return None if ds.from_contract else ds.created.date()


def record(ds: Dataset) -> CatalogueRecord:
    """The national catalogue elements of a dataset."""
    org = ds.organization
    return CatalogueRecord(
        resource_classification=classify(ds.domain, [g.name for g in ds.groups]),
        title=ds.title,
        resource_code=ds.resource_code,
        provider=org.title,
        provider_code=org.code,
        abstract=ds.notes,
        formats=_formats(ds),
        information_items=information_items(ds.fields),
        sharing_type=ds.sharing_type,
        sharing_condition=ds.sharing_condition,
        sharing_method=_sharing_method(ds),
        open_type=ds.open_type,
        update_frequency=ds.update_frequency,
        update_frequency_label=frequency_label(ds.update_frequency),
        release_date=_release_date(ds),
        related_resource_codes=list(dict.fromkeys([*ds.meta.get("input_codes", []), *ds.related_codes])),
    )
