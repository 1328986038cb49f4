"""Chinese personal names: weighted common surnames, compound surnames, 1-2 char given names.

Surname weights roughly follow the 2020 household-registration statistics (王, 李,
张, 刘, 陈 ... cover ~30%); compound surnames (欧阳, 司马, 诸葛 ...) are rare.
"""

from __future__ import annotations

import itertools
import random

_SURNAMES = (
    ("王", 7.1), ("李", 7.0), ("张", 6.7), ("刘", 5.4), ("陈", 4.6), ("杨", 3.1), ("黄", 2.6),
    ("赵", 2.3), ("吴", 2.0), ("周", 1.9), ("徐", 1.7), ("孙", 1.5), ("马", 1.5), ("朱", 1.3),
    ("胡", 1.3), ("郭", 1.2), ("何", 1.2), ("林", 1.2), ("罗", 1.1), ("高", 1.1), ("郑", 1.0),
    ("梁", 1.0), ("谢", 0.9), ("宋", 0.9), ("唐", 0.8), ("许", 0.8), ("韩", 0.7), ("邓", 0.7),
    ("冯", 0.7), ("曹", 0.7), ("彭", 0.7), ("曾", 0.6), ("肖", 0.6), ("田", 0.6), ("董", 0.5),
    ("潘", 0.5), ("袁", 0.5), ("蔡", 0.5), ("蒋", 0.5), ("余", 0.5), ("于", 0.5), ("杜", 0.5),
    ("叶", 0.5), ("程", 0.4), ("魏", 0.4), ("苏", 0.4), ("吕", 0.4), ("丁", 0.4), ("任", 0.4),
    ("卢", 0.4), ("姚", 0.4), ("沈", 0.4), ("钟", 0.4), ("姜", 0.4), ("崔", 0.3), ("谭", 0.3),
    ("陆", 0.3), ("范", 0.3), ("汪", 0.3), ("廖", 0.3), ("石", 0.3), ("金", 0.3), ("韦", 0.3),
    ("贾", 0.3), ("夏", 0.3), ("付", 0.3), ("方", 0.3), ("邹", 0.2), ("熊", 0.2), ("白", 0.2),
    ("孟", 0.2), ("秦", 0.2), ("邱", 0.2), ("侯", 0.2), ("江", 0.2), ("尹", 0.2), ("薛", 0.2),
    ("欧阳", 0.05), ("司马", 0.02), ("诸葛", 0.01), ("上官", 0.01), ("司徒", 0.03),
    ("东方", 0.01), ("夏侯", 0.01), ("皇甫", 0.01), ("公孙", 0.01), ("尉迟", 0.005),
)
SURNAMES: tuple[str, ...] = tuple(s for s, _ in _SURNAMES)
SURNAME_CUM: tuple[float, ...] = tuple(itertools.accumulate(w for _, w in _SURNAMES))

MALE_CHARS = "伟强磊军勇杰涛明超辉刚健鹏华平建国志文斌宇浩俊峰晨博轩昊然子豪宏亮德成龙海波林东"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲桂兰燕红梅琳雪婷慧颖欣怡佳萱雨涵诗琪晓倩淑珍凤洁"
SHARED_CHARS = "嘉子晓春秋新安宁思一佳永云志小天"

# Homophones used for name typos (the same pinyin, a different character).
HOMOPHONES: dict[str, str] = {
    "伟": "玮", "丽": "莉", "华": "桦", "静": "晶", "敏": "民", "军": "君", "明": "铭", "峰": "锋",
    "娟": "鹃", "红": "宏", "婷": "庭", "杰": "洁", "涛": "韬", "玲": "琳", "芳": "方", "霞": "侠",
    "辉": "晖", "英": "瑛", "斌": "彬", "平": "萍", "志": "智", "文": "雯", "燕": "艳", "强": "墙",
}


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=SURNAME_CUM)[0]


def given_name(rng: random.Random, male: bool) -> str:
    """One or two characters (about 20% single-character given names)."""
    pool = (MALE_CHARS if male else FEMALE_CHARS) + SHARED_CHARS
    if rng.random() < 0.2:
        return rng.choice(pool)
    return rng.choice(pool) + rng.choice(pool)


def full_name(rng: random.Random, male: bool, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, male)


def homophone_typo(name: str, rng: random.Random) -> str:
    """Replace one given-name character by a homophone, if the name has one."""
    positions = [i for i, ch in enumerate(name) if i > 0 and ch in HOMOPHONES]
    if not positions:
        return name
    i = rng.choice(positions)
    return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
