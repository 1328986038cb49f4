"""Chinese surnames, simplified and traditional.

Compound surnames come first so that 欧阳建国 is cut as 欧阳 + 建国 (not 欧 + 阳建国).
The single-surname list is the common family names (the Hundred Family Surnames
and the most frequent names of the 2020 census), which covers the vast majority of
residents; traditional forms are derived with OpenCC so the two scripts never drift.
"""

from __future__ import annotations

from functools import lru_cache

from opencc import OpenCC

_COMPOUND_SIMPLIFIED = [
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "长孙",
    "宇文",
    "令狐",
    "夏侯",
    "司徒",
    "司空",
    "端木",
    "独孤",
    "南宫",
    "西门",
    "轩辕",
    "钟离",
    "闻人",
    "澹台",
    "公冶",
    "宗政",
    "濮阳",
    "淳于",
    "单于",
    "太叔",
    "申屠",
    "仲孙",
    "呼延",
    "万俟",
    "赫连",
    "拓跋",
    "百里",
    "东郭",
    "南门",
    "羊舌",
    "微生",
    "梁丘",
    "左丘",
    "第五",
    "公良",
    "乐正",
    "漆雕",
    "壤驷",
    "谷梁",
    "段干",
]

_SINGLE_SIMPLIFIED = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝封冼丘练官敬植招习晁蔺奚钮粟揭戈伏束储扈鄢阙禹裘邴"
)

_S2T = OpenCC("s2t")


def _both_scripts(words: list[str]) -> frozenset[str]:
    return frozenset(words) | frozenset(_S2T.convert(w) for w in words)


#: Two-character surnames in both scripts (欧阳, 歐陽, 诸葛, 諸葛 ...).
COMPOUND_SURNAMES: frozenset[str] = _both_scripts(_COMPOUND_SIMPLIFIED)
#: One-character surnames in both scripts.
SINGLE_SURNAMES: frozenset[str] = _both_scripts(list(_SINGLE_SIMPLIFIED))


@lru_cache(maxsize=4096)
def split_surname(name: str) -> tuple[str, str]:
    """Split a full name into (surname, given name); compound surnames win.

    A name whose first two characters are a compound surname and that has at least
    one more character is split after two; anything else after one character.
    """
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]
