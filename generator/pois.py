"""Generate the planning bureau's points of interest (GeoParquet, CGCS2000).

Schools, hospitals, metro stations, parks, malls and government service centres at points inside
the work grids, each with the code of the grid that contains it. Names start from real Dongcheng
places and carry on with numbered ones. Faults: a category the contract does not know, no name.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from generator import faults, geography
from generator.export import Manifest, NotSendable, Record, file_format, write
from generator.names import BRANDS, LANES

DATASET = "spatial.pois"
FAULTS = ("unknown_category", "missing_name")
CATEGORIES = (("学校", 30), ("医院", 15), ("地铁站", 14), ("公园", 9), ("商场", 20), ("政务服务中心", 12))
KNOWN = {
    "地铁站": "王府井 东单 灯市口 东四 张自忠路 北新桥 雍和宫 安定门 和平里北街 东直门 东四十条 朝阳门 建国门 北京站"
    " 崇文门 前门 磁器口 天坛东门 蒲黄榆 南锣鼓巷 金鱼胡同 中国美术馆 珠市口 桥湾",
    "公园": "地坛公园 天坛公园 龙潭公园 青年湖公园 柳荫公园 皇城根遗址公园 明城墙遗址公园 南馆公园 玉蜓公园 菖蒲河公园",
    "商场": "王府井百货大楼 东方新天地 新世界百货 国瑞购物中心 北京apm 乐天银泰百货 来福士中心 银河SOHO 喜隆多购物中心",
    "医院": "北京协和医院 北京医院 北京同仁医院 北京中医医院 北京天坛医院 普仁医院 和平里医院 隆福医院 北京口腔医院",
    "政务服务中心": "东城区政务服务中心",
}
UNKNOWN_CATEGORIES = ("餐饮", "酒店", "银行")


@dataclass(frozen=True, slots=True)
class Poi:
    poi_id: str
    name: str
    category: str
    grid_code: str
    lon: float
    lat: float


class _Names:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.known = {k: v.split() for k, v in KNOWN.items()}
        self.count: Counter[str] = Counter()
        self.used: set[str] = set()

    def __call__(self, category: str, grid: geography.Area) -> str:
        self.count[category] += 1
        name = self._name(category, grid, self.count[category])
        if name in self.used:
            name += f"（{self.count[category]}）"
        self.used.add(name)
        return name

    def _name(self, category: str, grid: geography.Area, k: int) -> str:
        known = self.known.get(category, [])
        if k <= len(known):
            return known[k - 1] + ("站" if category == "地铁站" else "")
        rng = self.rng
        if category == "学校":
            return rng.choice((f"北京市第{k}中学", f"{rng.choice(LANES)}小学", f"{rng.choice(LANES)}幼儿园"))
        if category == "医院":
            community = geography.by_code()[grid.code[:12]].name
            return f"{community}卫生服务站"
        if category == "地铁站":
            station = known[(k - 1) % len(known)]
            return f"{station}站{chr(ord('A') + (k - 1) // len(known) - 1)}口"
        if category == "公园":
            return f"{rng.choice(LANES)}口袋公园{k}号"
        if category == "商场":
            return f"{rng.choice(BRANDS)}购物中心{k}号店"
        street = geography.by_code()[grid.code[:9]].name
        return f"{street}政务服务中心"


def make(n: int, rng: random.Random) -> list[Poi]:
    """``n`` points inside work grids; every category at least once."""
    names, weights = zip(*CATEGORIES, strict=True)
    categories = list(names) + rng.choices(names, weights=weights, k=max(0, n - len(names)))
    rng.shuffle(categories)
    grids = geography.grids()
    name_of = _Names(rng)
    out = []
    for i, category in enumerate(categories[:n]):
        grid = rng.choice(grids)
        lon, lat = grid.random_point(rng)
        out.append(Poi(f"POI{i + 1:07d}", name_of(category, grid), category, grid.code, lon, lat))
    return out


def record(p: Poi) -> Record:
    point = {"type": "Point", "coordinates": [p.lon, p.lat]}
    return {"poi_id": p.poi_id, "name": p.name, "category": p.category, "grid_code": p.grid_code, "geometry": point}


class _Spoiler:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def __call__(self, kind: str, row: Record, earlier: list[Record]) -> None:
        if kind == "unknown_category":
            row["category"] = self.rng.choice(UNKNOWN_CATEGORIES)
        elif kind == "missing_name":
            row["name"] = None


def export(out: Path, pois: list[Poi], *, bad_share: float, rng: random.Random) -> Manifest:
    fmt = file_format(out, "parquet")
    if fmt not in ("geojson", "parquet"):
        raise NotSendable(f"{DATASET} is sent as GeoParquet (or GeoJSON), not {fmt}")
    planned = faults.plan(len(pois), bad_share, rng, FAULTS)
    rows = faults.apply([record(p) for p in pois], planned, _Spoiler(rng))
    encoding = write(out, DATASET, rows, fmt=fmt)
    return Manifest(out, len(rows), encoding, len(rows) - len(planned), faults.rows(planned), fmt)


def generate(
    out: Path, *, rows: int = 300, bad_share: float = 0.05, seed: int = 20261031, encoding: str = "utf-8"
) -> Manifest:
    """Write ``rows`` points of interest as GeoParquet (``encoding`` is ignored)."""
    pois = make(rows, faults.stream(seed, "pois"))
    return export(out, pois, bad_share=bad_share, rng=faults.stream(seed, DATASET))
