"""Addresses: NFKC, simplified Chinese, full-width digits, province/city prefixes.

Departments write the same address as 浙江省杭州市西湖区文三路12号, 杭州市西湖区文三路１２号
or 西湖区文三路12号. NFKC folds full-width digits and letters, OpenCC t2s folds
traditional characters, whitespace and punctuation are dropped, and a leading
province (with or without 省/市/自治区) and a leading prefecture-level city are
removed, so the comparison starts at the district. The result is only ever
encoded; it never leaves the adapter.
"""

from __future__ import annotations

import re
import unicodedata

from adapters.linkage.names import to_simplified

# Provincial-level divisions (GB/T 2260), short forms; the suffix is optional when typed.
_PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
    "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
    "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
_PROVINCE_SUFFIX = r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
_PROVINCE = re.compile("^(?:" + "|".join(sorted(_PROVINCES, key=len, reverse=True)) + ")" + _PROVINCE_SUFFIX)
# A prefecture-level city or autonomous prefecture right after the province: 2-6 Han characters.
_CITY = re.compile(r"^(?:(?![区县旗路街道镇乡村])[\u4e00-\u9fff]){2,6}?(?:市|自治州|地区|盟)")
_DROP = re.compile(r"[\s,，、。.·\-_/()（）#]+")


def normalize_address(text: str | None) -> str | None:
    """Normalised address starting at the district, or ``None`` when nothing is left."""
    if not text:
        return None
    folded = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    folded = _DROP.sub("", folded)
    folded = _PROVINCE.sub("", folded, count=1)
    city = _CITY.match(folded)
    # Keep "xx市" when it is the whole remainder or directly followed by nothing useful.
    if city and len(folded) > city.end():
        folded = folded[city.end():]
    return folded or None
