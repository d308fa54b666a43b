"""Build the GB/T 2260 division table from python-stdnum's ``cn/loc.dat``.

python-stdnum ships the full list of county-level codes since 1980, with the
years each name was in use, transcribed from the zh.wikipedia pages
"中华人民共和国行政区划代码 (1区…8区)", which follow the Ministry of Civil
Affairs' published lists. The hub keeps its own CSV (versioned, reviewable in
diffs) and regenerates it with::

    python -m standards.build_divisions standards/data/gbt2260_divisions/2025.csv
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import stdnum

LOC_DAT = Path(stdnum.__file__).parent / "cn" / "loc.dat"
FIELDS = ("code", "name", "level", "parent_code", "valid_from", "valid_to")
_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.+)$")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    valid_from: str
    valid_to: str

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        return "prefecture" if self.code.endswith("00") else "county"


def _periods(code: str, names: str) -> Iterator[Division]:
    for part in names.split(","):
        match = _PERIOD.match(part)
        if match:
            yield Division(code, match.group(3), match.group(1), match.group(2))
        else:
            yield Division(code, part, "", "")


def parse(lines: list[str]) -> Iterator[Division]:
    """Divisions in ``loc.dat`` order: one row per (code, name, period)."""
    province = ""
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.strip().partition(" ")
        names = value.split("=", 1)[1].strip('"')
        if not line.startswith(" "):
            province = key
            continue
        yield from _periods(province + key, names)


def parent_code(code: str, known: set[str]) -> str:
    """The prefecture (or, failing that, province) a division belongs to."""
    if code.endswith("0000"):
        return ""
    prefecture = code[:4] + "00"
    if not code.endswith("00") and prefecture in known:
        return prefecture
    return code[:2] + "0000"


def write(path: Path) -> None:
    divisions = list(parse(LOC_DAT.read_text(encoding="utf-8").splitlines()))
    known = {d.code for d in divisions}
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(FIELDS)
        for d in divisions:
            parent = parent_code(d.code, known)
            out.writerow((d.code, d.name, d.level, parent, d.valid_from, d.valid_to))


if __name__ == "__main__":
    write(Path(sys.argv[1]))
