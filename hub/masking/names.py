"""Person names in Chinese notes: the profile's known names and a surname heuristic.

jieba's POS tags alone miss compound surnames (歐陽) and tag role words such as
申請人 as names, so names are found by (1) the names the profile itself holds and
(2) a surname list with boundary words around the candidate. Text is analysed after
folding to simplified script (:mod:`hub.masking.script`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from hub.masking.lexicon import LANGUAGE, both_scripts, is_han, word_freq, word_tags
from hub.masking.script import fold
from hub.masking.surnames import COMPOUND_SURNAMES, SINGLE_SURNAMES

#: Words that start with a surname character but are roles, not names.
NAME_STOP_WORDS: frozenset[str] = frozenset(
    both_scripts(
        """申请人 被申请人 当事人 工作人员 调解员 人民调解员 网格员 民警 社工
        志愿者 负责人 监护人 代理人 委托人 家属 居民 户主 老人 本人 张贴 陈述
        方面 周边 周末 高度 安全 安排 安置 关于 关系 常住 常常 时间 向其
        于是 和解 万元 金额 钱款 白天 明确 成员 程序 任何 应当 原因 包括
        文化 车辆 路口 江边 林地 杨树 马路 马上 高兴 黄色 朱红 司法所 司法
        公安 公安局 派出所 居委会 村委会 街道办 管理 房屋 齐全 宁愿 孔子 曾经
        许多 许可 雷同 龙头 毛病 华为 严重 施工 温度 康复 全部 单位 单独
        项目 连续 古老 吉祥 计划 车主 卫生 余额 余下 田地 苗头 梅雨 牛奶
        童年 简单 管理员 房东 冷静 解决 解释 季度 和平 和好 国家 党员 宫颈
        费用 卜卦 柏油 武装 双方 对方 其妻 其夫""".split()
    )
)
_NAME_PUNCT = frozenset("，。、；：:,;.!?！？（）()[]【】“”\"' \n\t《》<>-—")
#: Words that end right before a name: roles, relations, verbs of contact, conjunctions.
NAME_LEFT_WORDS: frozenset[str] = frozenset(
    """邻居 其妻 其夫 其子 其女 其母 其父 妻子 丈夫 儿子 女儿 母亲 父亲
    配偶 楼长 调解员 志愿者 民警 网格员 干部 同事 房东 租客 申请人 当事人
    对象 成员 约谈 走访 前往 到 与 和 同 及 跟 由 经 告知 联系 通知
    陪同 询问 表弟 表哥 表姐 表妹 朋友 老人 居民 户主 负责人 社工 人员
    见 找 给 向 对 被 让 叫 请 帮 为 看望 探望 慰问 帮扶 监护人 亲属
    家属 同学 老师 医生 护士 组长 主任 书记 村民 患者 学生 孩子 弟弟
    哥哥 姐姐 妹妹 爷爷 奶奶 外婆 外公 孙子 孙女 儿媳 女婿 姓名 签名
    记录人 见证人""".split()
)
#: Words that start right after a name: speech verbs, conjunctions, particles.
NAME_RIGHT_WORDS: frozenset[str] = frozenset(
    """称 说 表示 反映 介绍 因 及 和 与 同 家 本人 自述 在 未 陪同 到场
    同志 先生 女士 等 的 签字 已 于 曾 是 也 将 又 现 今 一家 夫妇
    老人 系 住 诉 承认 认为 提出 要求 同意 拒绝 确认 报到 来 去 到 均
    都 两人 三人 之间 无 有 因为 患 戒 服刑 矫正 回 离 从 把 被 对
    向 经常 多次 近期 目前 当天 母子 父子 发生 身体 务工 在读 无业 患有
    出现 情绪 表现 家中 今年 现年 男 女 岁 一起 一同 共同 夫妻 打 骂
    欠 借 找 求 走访 约谈 看望 探望 前往 上门 入户 联系 通知 告知 询问
    谈话""".split()
)
#: Last characters of role and kinship nouns (车主, 经办人, 片警, 家长, 老板, 咨询师): a name may follow.
_ROLE_FINAL_CHARS = frozenset("人员长主师警户属友板记者士官任妻夫哥姐弟妹爷奶婆叔姨舅嫂媳婿邻居事")
#: Characters that do not occur in given names: pronouns, particles, prepositions.
_NOT_IN_GIVEN_NAME = frozenset("其的了是在和与向对把被将已也都就还又不没很这那我你他她们个些某等之所")
_LEFT_MAX = max(map(len, NAME_LEFT_WORDS))
_RIGHT_MAX = max(map(len, NAME_RIGHT_WORDS))
_SURNAME_RE = re.compile(
    "|".join(sorted(COMPOUND_SURNAMES, key=len, reverse=True)) + "|[" + "".join(sorted(SINGLE_SURNAMES)) + "]"
)
_NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
#: jieba dictionary frequency above which a two-character word is "common" (马上 2306, 高家 296).
_COMMON_WORD_FREQ = 500


def _left_ok(text: str, i: int) -> bool:
    if i == 0 or text[i - 1] in _NAME_PUNCT:
        return True
    return _left_strong(text, i)


def _left_strong(text: str, i: int) -> bool:
    """A role, kinship or contact word right before ``i``: a name very likely follows."""
    if i > 0 and text[i - 1] in _ROLE_FINAL_CHARS:
        return True
    return any(text[i - k : i] in NAME_LEFT_WORDS for k in range(1, _LEFT_MAX + 1) if i - k >= 0)


_VERB_TAGS = frozenset({"v", "vd", "vi"})


def _right_ok(text: str, j: int, *, words_only: bool = False) -> bool:
    if not words_only:
        if j >= len(text) or text[j] in _NAME_PUNCT:
            return True
        if word_tags().get(text[j : j + 2]) in _VERB_TAGS:
            return True  # a two-character verb follows (驾驶, 提供): generic, not listed
    return any(text[j : j + k] in NAME_RIGHT_WORDS for k in range(1, _RIGHT_MAX + 1))


class SurnameRecognizer(EntityRecognizer):
    """Person names by the surname list and the words around them.

    A candidate is a surname (compound first: 欧阳, 诸葛) plus one or two Chinese
    characters, standing between a left boundary (punctuation, or a role, relation or
    contact word: 邻居, 其妻, 约谈, 与 ...) and a right boundary (punctuation, or a
    speech verb or particle: 称, 表示, 因, 家 ...). The two-character given name is
    preferred unless its last character is itself a boundary word (何芳称 -> 何芳).
    Role words (申请人, 当事人, 工作人员) and dictionary words that are not names
    (马上, 孙子, 高度) are excluded. jieba's own POS tags are not trusted alone: they
    miss compound surnames and tag 申请人 as a name.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entities=["PERSON"], name="ChineseSurnameRecognizer", supported_language=LANGUAGE
        )

    def load(self) -> None:
        word_tags()
        word_freq("")

    def _is_word(self, candidate: str) -> bool:
        tag = word_tags().get(candidate)
        return candidate in NAME_STOP_WORDS or (tag is not None and tag not in _NAME_TAGS)

    @staticmethod
    def _is_common_word(word: str) -> bool:
        """A frequent dictionary word (及时, 马上, 经常): a surname character inside it is no surname."""
        return word_freq(word) >= _COMMON_WORD_FREQ and word_tags().get(word) not in _NAME_TAGS

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        covered = 0
        for m in _SURNAME_RE.finditer(text):
            i, k = m.start(), m.end()
            if i < covered or not _left_ok(text, i):
                continue
            if text[i] in NAME_LEFT_WORDS and _SURNAME_RE.match(text, i + 1):
                continue  # 和黄艳: 和 is the conjunction, the name starts at 黄
            if i > 0 and self._is_common_word(text[i - 1 : i + 1]):
                continue  # 及时, 经常: the surname character belongs to the word before
            strong_left = _left_strong(text, i)
            for given in (2, 1):
                j = k + given
                if (
                    j > len(text)
                    or not is_han(text[k:j])
                    or any(ch in _NOT_IN_GIVEN_NAME for ch in text[k:j])
                ):
                    continue
                candidate = text[i:j]
                if given == 2 and _right_ok(text, j - 1, words_only=True):
                    continue  # 何芳称, 皇甫平陪同: the last character starts a boundary word
                if text[k:j] in NAME_LEFT_WORDS or text[k : k + 2] in NAME_LEFT_WORDS:
                    continue  # 走访时邻居: the "given name" is a role word
                # After a role word (车主蒋文涛, 片警刘晓峰) the right boundary may be any word;
                # over-reaching by one character over-masks, which is the safe side.
                if not (_right_ok(text, j) or strong_left):
                    continue
                if self._is_word(candidate) or self._is_common_word(text[i : k + 1]):
                    continue
                if any(w in NAME_STOP_WORDS for w in (text[i : j + 1], text[i : j + 2])):
                    continue
                results.append(RecognizerResult("PERSON", i, j, 0.6))
                covered = j
                break
        return results


class KnownNamesRecognizer(EntityRecognizer):
    """The names the profile itself holds (person, household, helpers), in both scripts.

    Built per request (an ad-hoc recognizer); matching is plain substring search,
    so compound surnames and names jieba splits oddly are found too.
    """

    def __init__(self, names: Iterable[str]) -> None:
        # analysis runs on folded (simplified) text; keep the original spelling too
        cleaned = [n.strip() for n in names if n and len(n.strip()) >= 2]
        variants = both_scripts([*cleaned, *(fold(n) for n in cleaned)])
        self._pattern = re.compile("|".join(re.escape(v) for v in variants)) if variants else None
        super().__init__(
            supported_entities=["PERSON"], name="KnownNamesRecognizer", supported_language=LANGUAGE
        )

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self._pattern is None:
            return []
        return [RecognizerResult("PERSON", m.start(), m.end(), 0.9) for m in self._pattern.finditer(text)]
