"""Pinyin of the catalogue's Chinese text, so ``q=renkou`` and ``q=rk`` find 人口.

Each run of Chinese characters is written twice: as full pinyin without tones or spaces
(常住人口 → ``changzhurenkou``) and as initials (``czrk``), by ``pypinyin`` (its phrase
dictionary picks the reading of heteronyms in context: 重庆 → ``chongqing``). The search text of a
dataset carries both, so a substring match finds a part of a word by its pinyin as it finds a part
of its characters (``renkou`` is in ``changzhurenkou``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import lazy_pinyin

HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


@lru_cache(maxsize=4096)
def _run(chars: str) -> tuple[str, str]:
    syllables = lazy_pinyin(chars, errors="ignore")
    return "".join(syllables), "".join(s[0] for s in syllables if s)


def romanize(text: str, *, initials: bool = True) -> str:
    """Full pinyin and (``initials``) initials of each Chinese run in ``text``, space-separated."""
    words: list[str] = []
    for run in HAN_RUN.findall(text or ""):
        full, first = _run(run)
        words += [full, first] if initials and len(run) > 1 else [full]
    return " ".join(dict.fromkeys(w for w in words if w))
