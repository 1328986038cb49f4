"""Generate the labelled PII corpus ``tests/data/pii_notes.jsonl`` (synthetic, fixed seed).

Run: ``python tests/data/make_pii_corpus.py`` (deterministic; the output is committed).

Each line is ``{"id", "text", "known_names", "entities": [{"type", "start", "end"}]}``.
Every person, number and address is invented. Notes are in the register of grid
visit records (走访记录), community-corrections talks (矫正谈话记录), mediation
records (调解记录), assistance and follow-up records; about 40% are converted to
traditional script, some use full-width digits, and phone/ID/card numbers come in
several spellings (spaces, dashes, +86, parentheses). ``known_names`` are the names
a profile would hold (the person and household); other people in the note (neighbours,
the other party of a dispute) are not in it, so the surname heuristic has to find them.

The note fragments deliberately use context words and punctuation the recognizers do
not key on (冒号 or none, 为/是/：, 联系方式, 帐号 ...) and include distractors that
are not PII: dates, amounts, case numbers, role words (申请人, 当事人, 工作人员),
common words starting with a surname character (高血压, 周末, 方面), and offices.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from opencc import OpenCC

SEED = 20261122
N_NOTES = 360
OUT = Path(__file__).resolve().parent / "pii_notes.jsonl"

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万覃武戴孔向汤常温康施文"
)
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "公孙", "令狐", "夏侯"]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "辉",
    "鹏",
    "华",
    "飞",
    "鑫",
    "波",
    "宁",
    "琳",
    "浩",
    "宇",
    "婷",
    "倩",
    "秀英",
    "秀兰",
    "桂英",
    "建华",
    "建国",
    "志强",
    "海燕",
    "玉兰",
    "俊杰",
    "晓东",
    "丽娟",
    "文博",
    "子涵",
    "雨桐",
    "国庆",
    "春梅",
    "德明",
    "振华",
    "红梅",
    "金凤",
    "永刚",
    "淑珍",
    "明辉",
    "嘉怡",
    "思远",
    "梓轩",
    "立新",
    "卫东",
    "小红",
    "少华",
    "家豪",
    "树林",
    "凤英",
    "宏伟",
]

CITIES = ["广州市", "深圳市", "佛山市", "东莞市", "北京市", "上海市", "成都市", "杭州市", "南京市", "武汉市"]
DISTRICTS = [
    "天河区",
    "海珠区",
    "越秀区",
    "白云区",
    "番禺区",
    "南山区",
    "福田区",
    "朝阳区",
    "浦东新区",
    "武侯区",
    "西湖区",
    "禅城区",
    "顺德区",
    "江宁区",
    "洪山区",
    "黄埔区",
    "龙岗区",
]
STREETS = [
    "石牌街道",
    "沙河街道",
    "龙洞街道",
    "新港街道",
    "五山街道",
    "元岗街道",
    "南村镇",
    "石碁镇",
    "北滘镇",
    "长安镇",
    "棠下街道",
    "车陂街道",
    "冼村街道",
    "大源街道",
]
COMMUNITIES = [
    "华师社区",
    "南华社区",
    "东风村",
    "龙岗村",
    "棠东社区",
    "员村社区",
    "新塘村",
    "长湴社区",
    "岑村",
    "林和社区",
    "金沙社区",
    "凤凰村",
]
ROADS = [
    "天河路",
    "江南中路",
    "五山路",
    "人民北路",
    "中山大道",
    "广州大道",
    "解放南路",
    "沿江东路",
    "科韵路",
    "黄埔大道",
    "东风中路",
    "迎宾路",
    "建设大马路",
    "龙口西路",
]
ESTATES = ["丽江花园", "翠湖山庄", "天河公寓", "华景新城小区", "金碧家园", "荔苑", "南国花园", "紫荆公寓"]

ROLES_BEFORE = [
    "邻居",
    "其妻",
    "其子",
    "其女",
    "其母",
    "其父",
    "楼长",
    "调解员",
    "帮教志愿者",
    "社区民警",
    "网格员",
    "村干部",
    "同事",
    "房东",
    "被申请人",
    "对方当事人",
    "表弟",
    "朋友",
]

DISTRACTORS = [
    "本次走访时间约四十分钟。",
    "当事人情绪稳定，表示愿意配合。",
    "申请人要求对方赔偿3000元。",
    "工作人员已将情况登记在册。",
    "其患有高血压，需定期服药。",
    "周末一般在家照看孙子。",
    "各方面表现良好，无异常。",
    "已告知其按时到司法所报到。",
    "社区民警参与了本次调解。",
    "本社区将继续跟踪关注。",
    "该村卫生站提供了随访服务。",
    "案号(2023)第0457号，已结案。",
    "共走访3次，电话回访2次。",
    "双方于2024年3月15日达成协议。",
    "其表示马上会去办理。",
    "工作人员向其宣讲了相关政策。",
    "天河区司法所已备案。",
    "下次谈话定于下周三上午。",
    "家中共有4口人。",
    "月收入约2500元，生活较困难。",
    "关于拆迁补偿问题，双方意见不一。",
    "经调解，当事人同意分期支付。",
    "走访中未发现安全隐患。",
    "已为其申请临时救助1200元。",
]


@dataclass
class Note:
    parts: list[str] = field(default_factory=list)
    entities: list[dict[str, object]] = field(default_factory=list)
    length: int = 0

    def add(self, text: str, kind: str | None = None) -> None:
        if kind is not None:
            self.entities.append({"type": kind, "start": self.length, "end": self.length + len(text)})
        self.parts.append(text)
        self.length += len(text)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def gb11643_check(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


def luhn_complete(prefix: str) -> str:
    for last in "0123456789":
        digits = prefix + last
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


class Generator:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def name(self) -> str:
        r = self.r
        surname = r.choice(COMPOUND) if r.random() < 0.12 else r.choice(SURNAMES)
        return surname + r.choice(GIVEN)

    def id_number(self) -> str:
        r = self.r
        region = r.choice(["440106", "440305", "110105", "310115", "510107", "330106", "441900", "420111"])
        year = r.randint(1940, 2010)
        body = f"{region}{year}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{r.randint(0, 999):03d}"
        kind = r.random()
        if kind < 0.12:  # legacy 15-digit
            return body[:6] + body[8:14] + body[14:17]
        check = gb11643_check(body)
        if kind < 0.22:  # failed checksum (typo when recorded)
            check = r.choice([c for c in "0123456789X" if c != check])
        text = body + check
        if r.random() < 0.1:
            text = f"{text[:6]} {text[6:14]} {text[14:]}"
        if r.random() < 0.2:
            text = text.replace("X", "x")
        return text

    def mobile(self) -> str:
        r = self.r
        digits = r.choice(["13", "15", "17", "18", "19", "14", "16"]) + "".join(
            r.choice("0123456789") for _ in range(9)
        )
        style = r.random()
        if style < 0.15:
            return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
        if style < 0.25:
            return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
        if style < 0.32:
            return "+86 " + digits
        return digits

    def landline(self) -> str:
        r = self.r
        area = r.choice(["020", "0755", "0757", "0769", "010", "021", "028"])
        local = str(r.randint(2, 8)) + "".join(
            r.choice("0123456789") for _ in range(7 if len(area) == 3 else 6)
        )
        style = r.random()
        if style < 0.2:
            return f"({area}){local}"
        if style < 0.35:
            return area + local
        return f"{area}-{local}"

    def bank_card(self) -> str:
        r = self.r
        prefix = r.choice(["622202", "621700", "622848", "622588", "436742", "621483"])
        length = r.choice([16, 19, 19])
        digits = luhn_complete(prefix + "".join(r.choice("0123456789") for _ in range(length - 7)))
        if r.random() < 0.35:
            return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
        return digits

    def plate(self) -> str:
        r = self.r
        prov = r.choice("粤京沪川浙苏鄂湘")
        letter = r.choice("ABCDEFGHJKLMNPQ")
        sep = r.choice(["", "", "", "·"])
        if r.random() < 0.25:  # new energy: D/F + 6 chars
            return f"{prov}{letter}{sep}{r.choice('DF')}{r.randint(10000, 99999)}"
        body = "".join(r.choice("0123456789") for _ in range(4))
        body = r.choice(["", r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")]) + body
        if len(body) == 4:
            body += r.choice("0123456789")
        return f"{prov}{letter}{sep}{body}"

    def address(self) -> str:
        r = self.r
        num = f"{r.randint(1, 300)}号"
        unit = r.choice(
            [
                "",
                f"{r.randint(1, 12)}栋{r.randint(1, 30)}0{r.randint(1, 6)}室",
                f"{r.randint(1, 6)}单元{r.randint(1, 30)}0{r.randint(1, 4)}房",
                f"之{r.randint(1, 5)}",
            ]
        )
        form = r.random()
        if form < 0.3:
            return r.choice(CITIES) + r.choice(DISTRICTS) + r.choice(STREETS) + r.choice(COMMUNITIES) + num
        if form < 0.5:
            return r.choice(DISTRICTS) + r.choice(ROADS) + num + unit
        if form < 0.65:
            return r.choice(ROADS) + num + unit
        if form < 0.8:
            return (
                r.choice(DISTRICTS)
                + r.choice(ESTATES)
                + f"{r.randint(1, 30)}栋{r.randint(1, 30)}0{r.randint(1, 6)}"
            )
        if form < 0.9:
            return r.choice(STREETS) + r.choice(COMMUNITIES) + f"{r.randint(1, 9)}组{r.randint(1, 80)}号"
        return r.choice(CITIES) + r.choice(DISTRICTS) + r.choice(ROADS) + num

    # ------------------------------------------------------------ fragments
    def sentence(self, note: Note, subject: str, household: list[str]) -> None:
        r = self.r
        kind = r.randrange(14)
        colon = r.choice(["：", ":", "", "为", "是", " "])
        if kind == 0:
            note.add(
                r.choice(["经核实，其身份证号", "身份证号码", "公民身份号码", "证件号", "其身份证"]) + colon
            )
            note.add(self.id_number(), "ID_NUMBER")
            note.add(r.choice(["。", "，户籍已核对。", "；", "（本人提供）。"]))
        elif kind == 1:
            note.add(r.choice(["联系电话", "手机", "联系方式", "本人手机号", "其电话", "可致电"]) + colon)
            note.add(self.mobile(), "PHONE")
            note.add(r.choice(["。", "，", "，如有变动及时告知。", "（微信同号）。"]))
        elif kind == 2:
            note.add(r.choice(["家中座机", "单位电话", "固话", "办公电话"]) + colon)
            note.add(self.landline(), "PHONE")
            note.add("。")
        elif kind == 3:
            note.add(r.choice(["现住", "家住", "现居住于", "租住在", "户籍地址", "实际居住地为", "搬至"]))
            note.add(self.address(), "ADDRESS")
            note.add(r.choice(["。", "，与户籍地不一致。", "，房屋为自有产权。", "，"]))
        elif kind == 4:
            note.add(r.choice(ROLES_BEFORE))
            other = self.name()
            note.add(other, "PERSON")
            note.add(r.choice(["反映", "称", "表示", "介绍", "说", "陪同走访", "到场"]))
            note.add(r.choice(["其近期情绪低落。", "家中经常争吵。", "其已找到工作。", "情况属实。", "，"]))
        elif kind == 5:
            note.add(r.choice(["与邻居", "与", "和", "同"]))
            other = self.name()
            note.add(other, "PERSON")
            note.add(
                r.choice(
                    ["因噪音问题发生纠纷。", "因宅基地边界产生矛盾。", "因欠款2万元产生争执。", "发生口角。"]
                )
            )
        elif kind == 6:
            note.add(r.choice(["工资卡号", "银行卡号", "救助金发放帐号", "社保卡号"]) + colon)
            note.add(self.bank_card(), "BANK_CARD")
            note.add(r.choice(["。", "，开户行为农业银行。", "；"]))
        elif kind == 7:
            note.add(
                r.choice(["其驾驶的车辆", "名下车辆车牌", "停放的电动车旁有一辆", "车牌号"])
                + r.choice(["", "为", "："])
            )
            note.add(self.plate(), "LICENSE_PLATE")
            note.add(r.choice(["。", "，已年检。", "，停放在小区内。"]))
        elif kind == 8:
            note.add(r.choice(DISTRACTORS))
        elif kind == 9 and household:
            member = r.choice(household)
            note.add(r.choice(["其配偶", "其儿子", "女儿", "户内成员"]))
            note.add(member, "PERSON")
            note.add(r.choice(["在外地务工。", "在读初中。", "身体状况较差。", "无业。"]))
        elif kind == 10:
            note.add(subject, "PERSON")
            note.add(
                r.choice(["本人表示", "自述", "称", "表示"])
                + r.choice(["近期按时服药。", "愿意接受帮扶。", "已按期报到。", "生活基本稳定。"])
            )
        elif kind == 11:
            note.add(r.choice(["走访对象", "矫正对象", "帮扶对象", "当事人"]))
            note.add(subject, "PERSON")
            note.add(r.choice(["，", "在家。", "未在家，由家属接待。"]))
        elif kind == 12:
            a, b = self.name(), self.name()
            note.add("参加人员：")
            note.add(a, "PERSON")
            note.add(r.choice(["、", "，", "及"]))
            note.add(b, "PERSON")
            note.add("。")
        else:
            note.add(r.choice(DISTRACTORS))

    def note(self, index: int) -> dict[str, object]:
        r = self.r
        subject = self.name()
        household = [self.name() for _ in range(r.randint(0, 2))]
        note = Note()
        header = r.choice(
            ["走访记录：", "矫正谈话记录。", "调解记录 ", "帮扶记录：", "回访记录", "【排查记录】", ""]
        )
        note.add(header)
        note.add(f"{r.randint(2021, 2025)}年{r.randint(1, 12)}月{r.randint(1, 28)}日，")
        note.add(
            r.choice(["网格员", "社区民警", "司法所工作人员", "社工"])
            + r.choice(["到", "前往", "上门走访", "约谈"])
        )
        note.add(subject, "PERSON")
        note.add(r.choice(["。", "，", "家中。", "（本人在场）。"]))
        for _ in range(r.randint(3, 8)):
            self.sentence(note, subject, household)
        text = note.text
        entities = note.entities
        if r.random() < 0.15:  # full-width digits
            text = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        known = [subject, *household]
        if r.random() < 0.4:
            converted = OpenCC("s2t").convert(text)
            if len(converted) == len(text):
                text = converted
                known = [OpenCC("s2t").convert(n) for n in known]
        return {"id": f"note-{index:04d}", "text": text, "known_names": known, "entities": entities}


def main(out: Path = OUT) -> None:
    gen = Generator(SEED)
    with out.open("w", encoding="utf-8") as fh:
        for i in range(N_NOTES):
            fh.write(json.dumps(gen.note(i), ensure_ascii=False) + "\n")
    print(f"wrote {N_NOTES} notes to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
