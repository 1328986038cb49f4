"""Free-text notes as department staff type them: names, phones, ID numbers, addresses inline.

Real case and visit notes carry identifiers in prose; the hub's PII masking (Presidio
with Chinese recognizers) must find them, so the synthetic notes do too.
"""

from __future__ import annotations

import random

from adapters.synth.population import Person

MOODS = ("情绪稳定", "情绪低落", "情绪激动，需关注", "精神状态良好", "表示近期睡眠不好")
WORK = ("已在{employer}务工", "暂无工作，正在找工作", "靠打零工维持生活", "在家照顾老人", "已参加职业技能培训")
FAMILY = ("与家人关系融洽", "与配偶时有争吵", "子女在外地，很少联系", "家属表示会配合监督", "独自居住")


def person_note(p: Person, rng: random.Random, *, with_id: bool = True) -> str:
    """A visit / case note mentioning the person's identifiers."""
    parts = [f"{rng.choice(('走访', '约谈', '电话联系', '上门了解'))}{p.name}"]
    if with_id and rng.random() < 0.5:
        parts[0] += f"（身份证号{p.id_number}）"
    if rng.random() < 0.6:
        parts.append(f"现住{p.residence_address}")
    if p.phone and rng.random() < 0.6:
        parts.append(f"联系电话{p.phone}")
    parts.append(rng.choice(MOODS))
    parts.append(rng.choice(WORK).format(employer=p.employer or "附近工厂"))
    parts.append(rng.choice(FAMILY))
    return "，".join(parts) + "。"


def dispute_note(a: Person, b: Person, kind: str, rng: random.Random) -> str:
    """A dispute description naming both parties."""
    cause = {
        "邻里纠纷": "因楼上漏水问题发生争吵",
        "婚姻家庭纠纷": "因家庭琐事多次争吵",
        "物业纠纷": "因物业费及停车位问题产生矛盾",
        "劳资纠纷": "因拖欠工资问题产生纠纷",
        "房屋租赁纠纷": "因押金退还问题发生争执",
    }[kind]
    text = f"当事人{a.name}（电话{a.phone or '无'}）与{b.name}{cause}"
    if rng.random() < 0.5:
        text += f"，{a.name}住{a.residence_address}"
    if rng.random() < 0.3:
        text += f"，{b.name}身份证号{b.id_number}"
    return text + "。经调解员现场调解，双方表示愿意协商解决。"
