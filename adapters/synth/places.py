"""The place hierarchy: district > street > community > grid, with Chinese names.

Grid paths follow DESIGN.md's jurisdiction format ``district/street/community/grid``
(e.g. ``TH/S03/C07/G05``). District region codes are GB/T 2260 codes of Guangzhou's
districts; "elsewhere" regions are where migrants' household registrations (hukou) are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITY = "广州市"
PROVINCE = "广东省"


@dataclass(frozen=True, slots=True)
class District:
    """A city district: short code, GB/T 2260 region code, name, migrant share of adults."""

    code: str
    region: str
    name: str
    migrant_share: float
    weight: float
    streets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grid:
    """One grid: path, names along the path, and roads of its community."""

    path: str
    district: District
    street_name: str
    community_name: str
    roads: tuple[str, ...]

    @property
    def community_path(self) -> str:
        return self.path.rsplit("/", 1)[0]

    def address_prefix(self) -> str:
        return f"{CITY}{self.district.name}{self.street_name}街道{self.community_name}社区"


DISTRICTS: tuple[District, ...] = (
    District("TH", "440106", "天河区", 0.40, 0.22, ("石牌", "五山", "林和", "天河南", "棠下", "员村")),
    District("YX", "440104", "越秀区", 0.18, 0.11, ("北京", "农林", "东山", "大塘", "人民")),
    District("HZ", "440105", "海珠区", 0.30, 0.16, ("江南中", "赤岗", "新港", "南洲", "琶洲", "昌岗")),
    District("LW", "440103", "荔湾区", 0.22, 0.11, ("沙面", "逢源", "多宝", "华林")),
    District("BY", "440111", "白云区", 0.45, 0.22, ("三元里", "松洲", "景泰", "同德", "京溪", "嘉禾")),
    District("PY", "440113", "番禺区", 0.35, 0.18, ("市桥", "沙头", "大石", "洛浦", "钟村")),
)

COMMUNITY_WORDS = (
    "华师", "龙口", "东风", "先烈", "福今", "金穗", "水荫", "瘦狗岭", "长湴", "华港", "育蕾",
    "南华", "昌兴", "石岗", "海富", "新村", "怡乐", "晓港", "盈丰", "康乐", "东湖", "广卫",
    "岭南", "恩宁", "多宝", "宝华", "清平", "西华", "陈田", "黄石", "同和", "柯子岭", "新市",
    "罗冲围", "云景", "平沙", "大塘", "光明", "东环", "富华", "丽江", "星河", "祈福", "洛溪",
    "丽水", "华南", "桥东", "沙园", "前进", "五羊", "梅花村", "天园", "车陂", "珠村", "东圃",
)
ROAD_WORDS = (
    "中山大道", "天河路", "五山路", "体育东路", "黄埔大道", "广州大道", "东风路", "解放路",
    "江南大道", "新港西路", "工业大道", "逢源路", "康王路", "广园路", "白云大道", "机场路",
    "市桥路", "迎宾路", "环城路", "兴业路", "华景路", "石牌东路", "员村二横路", "昌岗中路",
)

# Hukou regions of migrants (GB/T 2260 code, address text).
ELSEWHERE: tuple[tuple[str, str], ...] = (
    ("430521", "湖南省邵阳市邵东县"),
    ("450902", "广西壮族自治区玉林市玉州区"),
    ("511302", "四川省南充市顺庆区"),
    ("411602", "河南省周口市川汇区"),
    ("360721", "江西省赣州市赣县区"),
    ("421122", "湖北省黄冈市红安县"),
    ("441581", "广东省汕尾市陆丰市"),
    ("440881", "广东省湛江市廉江市"),
    ("441481", "广东省梅州市兴宁市"),
    ("350521", "福建省泉州市惠安县"),
    ("340822", "安徽省安庆市怀宁县"),
    ("522121", "贵州省遵义市播州区"),
    ("431102", "湖南省永州市零陵区"),
    ("500101", "重庆市万州区"),
)
TOWN_WORDS = ("城关", "新安", "石桥", "河口", "青山", "白沙", "马坪", "龙溪", "太平", "黄田")
VILLAGE_WORDS = ("上村", "下屋", "大坪", "新塘", "竹林", "高岭", "塘尾", "李家", "张庄", "水口")


@dataclass(frozen=True, slots=True)
class Geography:
    """All grids of the synthetic city, built deterministically from the seed."""

    grids_by_district: dict[str, tuple[Grid, ...]]

    def all_grids(self) -> list[Grid]:
        return [g for d in DISTRICTS for g in self.grids_by_district[d.code]]


def build_geography(rng: random.Random) -> Geography:
    """3-6 streets per district (given), 3-8 communities per street, 3-6 grids per community."""
    by_district: dict[str, tuple[Grid, ...]] = {}
    for district in DISTRICTS:
        grids: list[Grid] = []
        for s, street in enumerate(district.streets, start=1):
            n_comm = rng.randint(3, 8)
            words = rng.sample(COMMUNITY_WORDS, n_comm)
            for c, word in enumerate(words, start=1):
                roads = tuple(rng.sample(ROAD_WORDS, 3))
                for g in range(1, rng.randint(3, 6) + 1):
                    path = f"{district.code}/S{s:02d}/C{c:02d}/G{g:02d}"
                    grids.append(Grid(path, district, street, word, roads))
        by_district[district.code] = tuple(grids)
    return Geography(by_district)


def street_address(grid: Grid, rng: random.Random) -> str:
    """A full residence address inside ``grid``'s community."""
    road = rng.choice(grid.roads)
    return (
        f"{grid.address_prefix()}{road}{rng.randint(1, 480)}号"
        f"{rng.randint(1, 12)}栋{rng.randint(1, 32)}{rng.randint(1, 8):02d}房"
    )


def elsewhere_address(region_text: str, rng: random.Random) -> str:
    """A rural hukou address in the migrant's home county."""
    return (
        f"{region_text}{rng.choice(TOWN_WORDS)}镇{rng.choice(VILLAGE_WORDS)}村"
        f"{rng.randint(1, 12)}组{rng.randint(1, 99)}号"
    )
