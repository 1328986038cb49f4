"""Free-text PII with the real Presidio analyzer and the shipped blank spaCy zh pipeline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from presidio_analyzer import EntityRecognizer

from hub.masking import MaskingContext, apply_obligation
from hub.masking.freetext import PIPELINE_DIR, FreeTextMasker, mask_free_text


def found(masker: FreeTextMasker, text: str, names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in masker.analyze(text, names)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证号440106198001011234。", ("ID_NUMBER", "440106198001011234")),  # valid check digit
        ("证件44010619800101123X已核", ("ID_NUMBER", "44010619800101123X")),
        ("身份证号440106198001011235。", ("ID_NUMBER", "440106198001011235")),  # bad check digit
        ("旧证号440106800101123，", ("ID_NUMBER", "440106800101123")),  # 15-digit legacy
        ("手机13812345678联系", ("PHONE", "13812345678")),  # digits glued to Chinese on both sides
        ("手机：138 1234 5678。", ("PHONE", "138 1234 5678")),
        ("电话+86-139-1234-5678，", ("PHONE", "+86-139-1234-5678")),
        ("座机020-87654321。", ("PHONE", "020-87654321")),
        ("座機（0755）2345678。", ("PHONE", "（0755）2345678")),
        ("电话87654321转", ("PHONE", "87654321")),
        ("手機１３９１２３４５６７８。", ("PHONE", "１３９１２３４５６７８")),  # full-width digits
        ("卡号6222021234567890128，", ("BANK_CARD", "6222021234567890128")),
        ("帐号6222 0212 3456 7890 128。", ("BANK_CARD", "6222 0212 3456 7890 128")),
        ("车牌粤A12345停在", ("LICENSE_PLATE", "粤A12345")),
        ("車牌粵B·D12345，", ("LICENSE_PLATE", "粵B·D12345")),
        ("新能源车粤AF12345。", ("LICENSE_PLATE", "粤AF12345")),
        ("家住广州市天河区石牌街道华师社区18号。", ("ADDRESS", "广州市天河区石牌街道华师社区18号")),
        ("現住廣州市天河區石牌街道華師社區18號，", ("ADDRESS", "廣州市天河區石牌街道華師社區18號")),
        ("搬至海珠区江南中路3号2栋501房。", ("ADDRESS", "海珠区江南中路3号2栋501房")),
        ("邻居王秀英反映情况。", ("PERSON", "王秀英")),
        ("走访欧阳建国，", ("PERSON", "欧阳建国")),
        ("與鄰居歐陽建國發生口角。", ("PERSON", "歐陽建國")),
        ("调解员何芳称双方同意。", ("PERSON", "何芳")),
        ("参加人员：诸葛亮、上官婉儿。", ("PERSON", "上官婉儿")),
    ],
)
def test_recognizes(masker: FreeTextMasker, text: str, expected: tuple[str, str]) -> None:
    assert expected in found(masker, text)


@pytest.mark.parametrize(
    "text",
    [
        "申请人要求对方赔偿3000元。",
        "当事人情绪稳定，工作人员已登记。",
        "其患有高血压，周末在家照看孙子。",
        "各方面表现良好，其表示马上会去办理。",
        "如有变动及时告知，家中经常争吵。",
        "双方于2024年3月15日达成协议，案号(2023)第0457号。",
        "共走访3次，月收入约2500元。",
        "本社区将继续关注，该村卫生站提供随访。",
        "订单号12345678901234567890已处理。",  # 20 digits: no card, no ID
        "编号6222021234567890127。",  # 19 digits failing Luhn, no card context
    ],
)
def test_no_false_positives_on_ordinary_text(masker: FreeTextMasker, text: str) -> None:
    assert found(masker, text) == []


def test_role_words_are_not_names(masker: FreeTextMasker) -> None:
    text = "申請人張三稱，被申请人李四表示同意。"
    people = [t for kind, t in found(masker, text) if kind == "PERSON"]
    assert people == ["張三", "李四"]


def test_known_names_are_found_where_the_heuristic_is_blind(masker: FreeTextMasker) -> None:
    text = "今天见到韩国庆在楼下晒太阳"  # 韩国 is a common word: the heuristic skips it
    assert ("PERSON", "韩国庆") not in found(masker, text)
    assert ("PERSON", "韩国庆") in found(masker, text, ("韓國慶",))  # traditional name, simplified text


def test_masked_text_replaces_every_entity(masker: FreeTextMasker) -> None:
    text = "网格员到天河区石牌街道华师社区18号走访欧阳建国，其身份证号440106198001011234，电话13812345678。"
    out = masker.mask(text, ["欧阳建国"])
    assert out.masked == "网格员到<ADDRESS>走访<PERSON>，其身份证号<ID_NUMBER>，电话<PHONE>。"
    for secret in ("欧阳建国", "440106198001011234", "13812345678", "华师社区"):
        assert secret not in out.masked


def test_spans_index_the_original_text_even_in_traditional_fullwidth(masker: FreeTextMasker) -> None:
    text = "戶籍：廣州市天河區石牌街道華師社區１８號，電話：０２０－８７６５４３２１。"
    entities = masker.analyze(text)
    assert [(e.type, text[e.start : e.end]) for e in entities] == [
        ("ADDRESS", "廣州市天河區石牌街道華師社區１８號"),
        ("PHONE", "０２０－８７６５４３２１"),
    ]


def test_free_text_obligation(masker: FreeTextMasker) -> None:
    ctx = MaskingContext(known_names=("欧阳建国",))
    result = apply_obligation("走访欧阳建国，手机13812345678。", {"operator": "pii_free_text"}, context=ctx)
    assert not result.withheld
    assert result.value == "走访<PERSON>，手机<PHONE>。"
    assert result.operator == "pii_free_text"


class ExplodingRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="Exploding", supported_language="zh")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("recognizer bug")


def test_analysis_failure_withholds_the_field() -> None:
    broken = FreeTextMasker(recognizers=[ExplodingRecognizer()])
    secret = "走访欧阳建国，手机13812345678。"
    result = mask_free_text(secret, context=MaskingContext(), masker=broken)
    assert result.withheld and result.value is None
    assert "RuntimeError" in result.reason and "13812345678" not in result.reason


def test_non_text_value_withholds(masker: FreeTextMasker) -> None:
    assert mask_free_text(b"\x00", context=MaskingContext(), masker=masker).withheld
    assert mask_free_text(None, context=MaskingContext(), masker=masker).value is None


def test_building_and_analysing_touch_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = FreeTextMasker()
    assert fresh.mask("电话13812345678").masked == "电话<PHONE>"


def test_fresh_process_with_a_dead_proxy_needs_no_network(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Cold start in a new interpreter: imports, pipeline load and analysis, all offline."""
    env = {
        **os.environ,
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "TLDEXTRACT_CACHE": str(tmp_path),
    }
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise SystemExit('network access attempted')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
        "from hub.masking.freetext import FreeTextMasker\n"
        "import os; assert os.environ['TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS'] == ''\n"
        "print(FreeTextMasker().mask('手机13812345678').masked)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "手机<PHONE>"


def test_pipeline_is_shipped_and_blank() -> None:
    import spacy

    nlp = spacy.load(PIPELINE_DIR)
    assert nlp.lang == "zh" and nlp.pipe_names == []
    assert nlp.tokenizer.segmenter == "jieba"


def test_default_masker_is_built_once() -> None:
    from hub.masking.freetext import default_masker

    assert default_masker() is default_masker()


def test_concurrent_calls_give_the_sequential_answers(masker: FreeTextMasker) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"走访第{i}户，邻居王秀英反映，电话1381234{i:04d}，家住天河区五山路{i}号。" for i in range(40)]
    expected = [masker.mask(t).masked for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda t: masker.mask(t).masked, texts)) == expected
    assert all("<PHONE>" in e and "<PERSON>" in e and "<ADDRESS>" in e for e in expected)
