"""Generate ``tests/data/pii_heldout.jsonl``: hand-written notes never used to tune the recognizers.

Run: ``python tests/data/make_pii_heldout.py [OUT_DIR]`` (the outputs are committed).

The main corpus (make_pii_corpus.py) was used while the recognizers were written, so
its figures are optimistic. These notes were written afterwards, in other phrasings,
and the recognizers were not changed to fit them; ``bench/pii_quality.py --corpus
tests/data/pii_heldout.jsonl`` reports them separately. Entities are marked inline
as ``{TYPE:text}``; ``known_names`` lists the names a profile would hold.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "pii_heldout.jsonl"

# (marked-up text, known names)
NOTES: list[tuple[str, list[str]]] = [
    (
        "上午九点半入户，{PERSON:钟淑芬}在阳台晾衣服，精神尚可。她说儿子{PERSON:钟立}在东莞打工，很少回来，"
        "平时靠低保过日子。留了儿子电话{PHONE:15920031187}，以便紧急联系。",
        ["钟淑芬", "钟立"],
    ),
    (
        "谈话对象：{PERSON:莫振东}。本月第二次谈话，对象自述在{ADDRESS:白云区太和镇米龙村}一家五金厂上班，"
        "月薪四千左右，老板{PERSON:黄德胜}可以作证。下次报到时间另行通知。",
        ["莫振东"],
    ),
    (
        "纠纷简述：{PERSON:林阿婆}与楼上住户{PERSON:唐志成}因漏水问题多次争吵，"
        "唐某的车（{LICENSE_PLATE:粤A·3K7M9}）长期占用消防通道。调解员当场协调，双方约定周五前维修。",
        ["林阿婆"],
    ),
    (
        "來訪人{PERSON:葉嘉欣}稱其前夫{PERSON:區志強}多次上門滋擾，已向派出所報案，"
        "要求社區協助申請人身安全保護令。聯繫電話：{PHONE:(020)8392 1100}。",
        ["葉嘉欣", "區志強"],
    ),
    (
        "经查，{PERSON:司徒敏}名下有农业银行卡一张，卡号{BANK_CARD:6228 4800 8600 1234 567}，"
        "救助金已按月打入。其母{PERSON:司徒秀珍}今年七十八岁，独居于{ADDRESS:越秀区登峰街道横枝岗路22号之3}。",
        ["司徒敏", "司徒秀珍"],
    ),
    (
        "夜间巡查发现一辆无人看管的电动三轮车，车主为{PERSON:罗国华}，已电话通知本人（{PHONE:137-2456-8810}）前来处理。",
        [],
    ),
    (
        "矯正對象{PERSON:謝文軒}于本周一按時報到，身份證{ID_NUMBER:440111199203154417}已核驗，"
        "目前住在{ADDRESS:番禺區市橋街道東涌路8號}，與戶籍地一致。",
        ["謝文軒"],
    ),
    (
        "走访时邻居反映，独居老人{PERSON:孔繁荣}近两天没有出门。网格员联系其女儿{PERSON:孔丽华}"
        "（手机号{PHONE:18620147735}），女儿表示当晚赶回。",
        ["孔繁荣", "孔丽华"],
    ),
    (
        "调解笔录 申请人：{PERSON:吴晓燕}，被申请人：{PERSON:周建平}。事由：房屋租赁押金纠纷，涉及金额8000元。"
        "房屋坐落于{ADDRESS:海珠区南洲路97号2栋803}。",
        ["吴晓燕"],
    ),
    (
        "今日回访：{PERSON:上官雪}情绪平稳，正在准备自考，需要学校开具证明。其住址变更为"
        "{ADDRESS:天河区员村二横路5号}，旧地址不再使用。",
        ["上官雪"],
    ),
    (
        "社区矫正宣告会到场：矫正对象{PERSON:覃海}，监护人{PERSON:覃美玲}，司法所所长及志愿者两名。",
        ["覃海", "覃美玲"],
    ),
    (
        "帮扶需求登记：{PERSON:何家明}，残疾等级二级，身份证号码{ID_NUMBER:44010519750823301X}，"
        "希望申请居家养老服务。",
        ["何家明"],
    ),
    (
        "接群众来电（{PHONE:0757-8833 2211}），反映{ADDRESS:禅城区祖庙街道岭南大道北118号}附近夜间施工扰民。"
        "已转城管处理。",
        [],
    ),
    (
        "对象{PERSON:麦小军}称上周去了一趟深圳，未提前报备，已给予口头警告。陪同人员{PERSON:冼永坚}签字确认。",
        ["麦小军"],
    ),
    (
        "補充：{PERSON:歐陽慧}的舊身份證號{ID_NUMBER:440104780512122}仍在部分系統中使用，需同步更新。",
        ["歐陽慧"],
    ),
    (
        "{PERSON:潘志远}驾驶{LICENSE_PLATE:粤BD56789}新能源车送孩子上学，途中与{PERSON:邓丽}发生刮擦，双方自行协商解决。",
        ["潘志远"],
    ),
    ("本季度共走访辖区独居老人十二户，其中两户需重点关注。工作人员已建立台账。", []),
    (
        "家访记录：母亲{PERSON:卢桂芳}在家，父亲{PERSON:卢伟强}外出务工。学生{PERSON:卢子轩}就读于第三中学初二，"
        "近期逃课三次。班主任电话{PHONE:13902287456}。",
        ["卢子轩", "卢桂芳", "卢伟强"],
    ),
    (
        "因拆迁安置问题，{PERSON:陈伯}情绪激动，扬言要到市里上访。社区书记和片警{PERSON:刘晓峰}一起做了安抚工作。",
        ["陈伯"],
    ),
    (
        "受助人{PERSON:严秀云}的工资卡{BANK_CARD:6217003320001234561}被冻结，原因是欠缴物业费，已联系银行了解情况。",
        ["严秀云"],
    ),
    (
        "報到情況：{PERSON:馮家駿}本月因病住院，由其妻{PERSON:梁詠詩}代為請假，提供了住院證明。住院地址"
        "{ADDRESS:越秀區中山二路58號}。",
        ["馮家駿", "梁詠詩"],
    ),
    (
        "外来人员登记：{PERSON:田振宇}，湖南人，身份证{ID_NUMBER:430521199411078812}，暂住"
        "{ADDRESS:白云区石井街道庆丰村5巷3号}，从事快递工作。",
        [],
    ),
    (
        "多次电话联系不上{PERSON:毛建军}（{PHONE:15013577924}），上门后得知已搬走，新地址不详，已报告司法所。",
        ["毛建军"],
    ),
    ("本次排查未发现异常，居民普遍反映治安状况良好，路灯已修复。", []),
    (
        "{PERSON:宁小红}反映丈夫{PERSON:黎志明}酒后动手，手臂有淤青。社工陪同其到医院验伤，并告知求助热线。",
        ["宁小红", "黎志明"],
    ),
    ("车辆信息：{LICENSE_PLATE:湘A88K21}，登记车主{PERSON:蒋文涛}，车辆长期停放在小区门口，影响通行。", []),
    (
        "調解結果：{PERSON:鄭國強}同意分三期償還{PERSON:温麗珠}借款共計三萬元，第一期於下月十日前支付。",
        ["鄭國強"],
    ),
    ("心理咨询师{PERSON:方静怡}每两周来一次，对象{PERSON:甘明}配合度较高，服药情况正常。", ["甘明"]),
    (
        "入户核查低保家庭：户主{PERSON:杜永福}，家庭成员三人，住房为{ADDRESS:增城区荔城街道光明村二社16号}自建房。",
        ["杜永福"],
    ),
    (
        "{PERSON:诸葛明远}的身份证号{ID_NUMBER:440106198807213355}与系统记录不符，需到派出所核实。",
        ["诸葛明远"],
    ),
    (
        "跟进：{PERSON:黄小玲}已经找到保洁工作，在{ADDRESS:天河区体育西路103号}写字楼上班，联系方式不变。",
        ["黄小玲"],
    ),
    ("来电人未留姓名，反映小区有人聚众赌博，地点在{ADDRESS:黄埔区大沙地东路320号}地下室。", []),
    ("{PERSON:范志刚}、{PERSON:贺春燕}夫妇因赡养老人问题产生分歧，已约定下周一到社区调解室面谈。", []),
    (
        "谈话中，{PERSON:孟凡}承认上月曾与{PERSON:石磊}一起饮酒，未发生违规行为。提醒其遵守禁止性规定。",
        ["孟凡"],
    ),
    (
        "銀行流水顯示，{PERSON:蔡佩琪}的帳戶{BANK_CARD:6222 0200 1122 3344 550}每月有固定轉入，來源待查。",
        ["蔡佩琪"],
    ),
    ("残联送来轮椅一台，由{PERSON:宋伯伯}的儿子{PERSON:宋建明}签收，电话{PHONE:020-38475566}。", ["宋建明"]),
    ("学生家长{PERSON:苏美华}来电（{PHONE:+86 135 8899 0012}）询问入学积分政策，已解答。", []),
    (
        "{PERSON:慕容晓}因涉嫌盗窃被刑拘，其家属{PERSON:慕容国平}要求了解案情，已告知向办案单位咨询。",
        ["慕容晓", "慕容国平"],
    ),
    ("重点人员{PERSON:韦德}近期出入频繁，驾驶车辆{LICENSE_PLATE:桂B·76543}，已通报派出所。", ["韦德"]),
    ("临时救助审批：{PERSON:欧丽萍}，因火灾财物损失，拟救助2000元，经办人{PERSON:张敏}。", ["欧丽萍"]),
]

# Batch B: written after batch A had been measured and the recognizers generically
# fixed; measured once, as is (pii_heldout_b.jsonl).
NOTES_B: list[tuple[str, list[str]]] = [
    (
        "问：你最近住在哪里？答：住在我表姐{PERSON:简丽君}家，{ADDRESS:荔湾区芳村大道中215号}。问：联系方式？答："
        "{PHONE:13711220987}。",
        ["简丽君"],
    ),
    (
        "19:30接110指令，{ADDRESS:南沙区黄阁镇麒麟村}有人打架。到场后查明，{PERSON:骆永康}与{PERSON:庞志伟}"
        "因琐事互殴，均有轻微伤。",
        [],
    ),
    (
        "情况说明\n当事人：{PERSON:伍佩仪}，女，1986年生。\n事由：其在{ADDRESS:花都区新华街道三东大道68号}"
        "开设的小卖部被盗，损失约13,800元。",
        ["伍佩仪"],
    ),
    (
        "12345热线转办：市民反映高新区一工地夜间施工，已联系施工方负责人{PERSON:俞建新}，要求晚十点后停工。",
        [],
    ),
    (
        "{PERSON:尹嘉豪}（身份证{ID_NUMBER:44030619990412005X}）今日解除社区矫正，宣告时其父{PERSON:尹志华}到场。",
        ["尹嘉豪", "尹志华"],
    ),
    ("订单号202405061234567890已退款；快递员电话{PHONE:17612345670}。", []),
    (
        "低保复核：{PERSON:钱玉梅}家庭月人均收入低于标准，继续享受。开户行邮储银行，账号"
        "{BANK_CARD:6221 8812 3456 7890}。",
        ["钱玉梅"],
    ),
    ("經排查，{PERSON:黃國棟}駕駛的{LICENSE_PLATE:粵E·12K34}貨車為套牌車，已移交交警。", []),
    ("王府井街道办事处来函，请协助核查石门社区居民用电情况，与个人信息无关。", []),
    ("家屬{PERSON:曾慶福}情緒激動，要求見院長，經勸解後離開。其電話{PHONE:0760-88123456}。", ["曾慶福"]),
    (
        "{PERSON:雷晓彤}说她每天下午四点接孩子放学，孩子在{ADDRESS:番禺区大石街道植村小学}读三年级。",
        ["雷晓彤"],
    ),
    ("周三例会：张主任通报本月矛盾纠纷化解率98%，重点人员稳控良好。", []),
    (
        "求助人{PERSON:丘海燕}称其户口在老家，现暂住{ADDRESS:龙华区民治街道白石龙一区45栋602}，希望办理居住证。",
        ["丘海燕"],
    ),
    ("{PERSON:公孙博}与{PERSON:梁思琪}系夫妻关系，双方对孩子抚养权有争议，已引导至法院诉讼。", []),
    ("核实结果：{PERSON:卓文}提供的身份证号{ID_NUMBER:350102198610101234}校验不通过，请本人到场。", ["卓文"]),
    ("社工{PERSON:蓝天宇}本周完成入户8次，其中{PERSON:向秋菊}家两次。", ["向秋菊"]),
    ("车辆{LICENSE_PLATE:京N12345}违停于{ADDRESS:朝阳区望京街道广顺北大街33号}门前，已贴单。", []),
    (
        "{PERSON:秦大爷}今年八十五岁，耳背，跟他说话要大声。女儿{PERSON:秦淑贤}每周来一次，电话{PHONE:139 0271 3348}。",
        ["秦大爷", "秦淑贤"],
    ),
    ("經手人：{PERSON:溫志豪}；審核：{PERSON:鄧婉婷}。", []),
    ("对象{PERSON:江涛}上月工资单显示收入3200元，社保卡号{BANK_CARD:6214830212345674}，已登记。", ["江涛"]),
]

# Batch C: written after batch B's fixes (verb boundary, more surnames); measured once, as is.
NOTES_C: list[tuple[str, list[str]]] = [
    ("晚上八点，{PERSON:胡春生}的妻子打来电话说他又喝醉了在楼下吵闹。民警{PERSON:易志勇}赶到{ADDRESS:荔湾区多宝路31号}"
     "劝其回家。", ["胡春生"]),
    ("租客{PERSON:柯明亮}未办理居住登记，房东{PERSON:翁丽娟}（{PHONE:13560012345}）承诺三日内补办。", []),
    ("矫正小组成员：{PERSON:汤家乐}（社工）、{PERSON:于凤霞}（志愿者）、对象父亲{PERSON:戴国荣}。", ["戴国荣"]),
    ("本周五上午召开平安建设推进会，各网格长参加，会议地点社区三楼会议室。", []),
    ("{PERSON:章晓明}今日来社区开具无犯罪记录证明，经系统核查符合条件，已出具。", ["章晓明"]),
    ("關於{PERSON:施文傑}反映的噪音問題，經現場測量，夜間分貝超標，已通知{ADDRESS:灣仔區軒尼詩道128號}的商戶整改。",
     ["施文傑"]),
    ("求助电话{PHONE:0755 2688 1234}多次占线，后改由手机{PHONE:15889900123}联系上{PERSON:祁红霞}本人。",
     ["祁红霞"]),
    ("{PERSON:凌志}自称在外卖平台工作，提供的工作证编号为WM20231185，收入不固定。", ["凌志"]),
    ("事件经过：{PERSON:阮小兵}骑电动车撞倒行人{PERSON:纪秀兰}，行人左腿骨折，送医治疗，费用暂由阮垫付。",
     ["阮小兵"]),
    ("{PERSON:童佳慧}的孩子{PERSON:童乐}今年满六岁，需办理入学，户籍在{ADDRESS:黄埔区长洲街道深井村}。",
     ["童佳慧", "童乐"]),
    ("身份信息核对：姓名{PERSON:舒志文}，证件号码{ID_NUMBER:420106197909094433}，与户籍系统一致。", ["舒志文"]),
    ("車主{PERSON:駱家輝}的私家車{LICENSE_PLATE:粵A·5T8K2}停放在消防通道，已電話通知挪車。", []),
    ("座谈会上{PERSON:鲍志刚}提出，老旧小区加装电梯费用分摊方案需要再议。{PERSON:岳芳}表示赞成。", []),
    ("{PERSON:申建军}，男，五十二岁，独居，低保户，有高血压和糖尿病史，每月由社区医生上门随访。", ["申建军"]),
    ("补发救助金至{PERSON:路晓东}尾号5678的银行卡，完整卡号{BANK_CARD:6222 6000 1234 5678}。", ["路晓东"]),
    ("居民{PERSON:华美玲}称楼道堆放杂物存在火灾隐患，物业经理{PERSON:车志鹏}答应周末前清理。", []),
    ("{PERSON:龚伟}（{ID_NUMBER:110105198502307719}）系刑满释放人员，今日到司法所报到，安置帮教工作已启动。",
     ["龚伟"]),
    ("楼栋长会议记录：出席十二人，缺席两人，讨论垃圾分类和电动车充电问题。", []),
    ("{PERSON:焦洪涛}拒绝配合入户调查，态度恶劣，已请片区民警{PERSON:闻建}协助。", ["焦洪涛"]),
    ("經查詢，{PERSON:溫嘉欣}登記的手機號{PHONE:+86 18922334455}已停機，現住址{ADDRESS:南山區桃源街道龍珠四路2號}。",
     ["溫嘉欣"]),
]

_MARK = re.compile(r"\{([A-Z_]+):([^{}]+)\}")


def parse(marked: str) -> tuple[str, list[dict[str, object]]]:
    """Strip ``{TYPE:text}`` marks; return the text and the entity spans."""
    text, entities, pos = "", [], 0
    for m in _MARK.finditer(marked):
        text += marked[pos : m.start()]
        entities.append({"type": m.group(1), "start": len(text), "end": len(text) + len(m.group(2))})
        text += m.group(2)
        pos = m.end()
    return text + marked[pos:], entities


def write(notes: list[tuple[str, list[str]]], out: Path, prefix: str) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for i, (marked, names) in enumerate(notes):
            text, entities = parse(marked)
            record = {"id": f"{prefix}-{i:03d}", "text": text, "known_names": names, "entities": entities}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(notes)} notes to {out}")


def main(out_dir: Path = OUT.parent) -> None:
    write(NOTES, out_dir / "pii_heldout.jsonl", "heldout")
    write(NOTES_B, out_dir / "pii_heldout_b.jsonl", "heldout-b")
    write(NOTES_C, out_dir / "pii_heldout_c.jsonl", "heldout-c")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT.parent)
