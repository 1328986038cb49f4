"""A small department of our own for adapter tests: two tables in a real database.

``jzdx`` (community-corrections subjects) has identity columns, a date column in
the departments' mixed formats, integer, boolean and free-text columns, and an
unexposed column; ``zfjl`` (visit records) has string ids and is exposed through
a JOIN query. The same rows are written to SQLite or PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

SECRET = b"0123456789abcdef0123456789abcdef-test-secret"

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def id_number(region: str, birth: str, seq: int) -> str:
    """A GB 11643-1999 ID number with a valid check digit."""
    body = f"{region}{birth}{seq:03d}"
    return body + _CHECK[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


metadata = sa.MetaData()
jzdx = sa.Table(
    "jzdx",
    metadata,
    sa.Column("dxbh", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("xm", sa.String(50)),
    sa.Column("sfzh", sa.String(20)),
    sa.Column("csrq", sa.String(20)),
    sa.Column("xb", sa.String(4)),
    sa.Column("sjhm", sa.String(20)),
    sa.Column("jzwg", sa.String(40)),
    sa.Column("fxdj", sa.String(4)),
    sa.Column("ksrq", sa.String(20)),
    sa.Column("jcbs", sa.Integer),
    sa.Column("sfzj", sa.Integer),
    sa.Column("bz", sa.Text),
    sa.Column("sdlx", sa.String(20)),
    sa.Column("nbbz", sa.Text),
    sa.Column("gxsj", sa.DateTime),
)
zfjl = sa.Table(
    "zfjl",
    metadata,
    sa.Column("jlbh", sa.String(20), primary_key=True),
    sa.Column("dxbh", sa.Integer),
    sa.Column("zfrq", sa.String(20)),
    sa.Column("zfnr", sa.Text),
    sa.Column("gxsj", sa.DateTime),
)

BASE_TIME = dt.datetime(2026, 1, 1, 8, 0, 0)
START_DATES = ["2024-03-07", "2024/3/7", "20240307", "2024年3月7日", "garbage", None]
NAMES = ["张三", "李四", "王五", "趙六", "孙七", "周八", "吴九", "郑十", "冯一", "陈二", "褚三", "卫四"]


def subjects() -> list[dict[str, object]]:
    rows = []
    for i in range(12):
        birth = f"19{70 + i:02d}0{1 + i % 9}1{i % 10}"
        rows.append(
            {
                "dxbh": 1001 + i,
                "xm": NAMES[i],
                "sfzh": id_number("330102", birth, 10 + i),
                "csrq": [
                    f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
                    f"{birth[:4]}/{int(birth[4:6])}/{int(birth[6:])}",
                    birth,
                    f"{birth[:4]}年{int(birth[4:6])}月{int(birth[6:])}日",
                ][i % 4],
                "xb": "男" if i % 2 == 0 else "女",
                "sjhm": f"1380000{i:04d}",
                "jzwg": f"TH/S0{1 + i % 3}/C0{1 + i % 4}/G0{1 + i % 5}",
                "fxdj": ["红", "黄", "蓝"][i % 3],
                "ksrq": START_DATES[i % len(START_DATES)],
                "jcbs": i % 4,
                "sfzj": i % 2,
                "bz": f"第{i}次谈话，情绪稳定。",
                "sdlx": "吸毒" if i % 5 == 0 else "无",
                "nbbz": "内部备注",
                # two rows without an update time; the rest one hour apart, two sharing a time
                "gxsj": None if i in (3, 7) else BASE_TIME + dt.timedelta(hours=min(i, 10)),
            }
        )
    return rows


def visits() -> list[dict[str, object]]:
    return [
        {
            "jlbh": f"V{n:03d}",
            "dxbh": 1001 + n % 12,
            "zfrq": ["2025-06-01", "2025/6/2", "20250603"][n % 3],
            "zfnr": f"走访记录{n}",
            "gxsj": BASE_TIME + dt.timedelta(minutes=n),
        }
        for n in range(20)
    ]


def create_department(url: str) -> None:
    """Create both tables in the (empty) database at ``url`` and fill them."""
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(jzdx.insert(), subjects())
        conn.execute(zfjl.insert(), visits())
    engine.dispose()


CONFIG = """\
[department]
name = "justice"
display_name = "司法局"

[database]
url = "{database_url}"

[state]
url = "{state_url}"

[server]
listen = "127.0.0.1:0"
max_records_per_request = 50
max_fields_per_request = 20

[linkage]
secret_file = "{secret_file}"

[[datasets]]
name = "corrections"
description = "社区矫正对象"
table = "jzdx"
id_column = "dxbh"
updated_at_column = "gxsj"
jurisdiction_column = "jzwg"
groups = ["community_corrections"]
unexposed = ["nbbz", "sdlx"]
export = ["risk_level", "start_date", "sessions_missed", "active", "notes", "birth_date"]

[datasets.identity]
name = "xm"
id_number = "sfzh"
birth_date = "csrq"
sex = "xb"
phone = "sjhm"

[[datasets.fields]]
name = "name"
column = "xm"
type = "string"
category = "identity"
grade = "L3"
description = "姓名"

[[datasets.fields]]
name = "birth_date"
column = "csrq"
type = "date"
category = "identity"
grade = "L3"

[[datasets.fields]]
name = "risk_level"
column = "fxdj"
type = "string"
category = "risk"
grade = "L2"
description = "风险等级(红/黄/蓝)"

[[datasets.fields]]
name = "start_date"
column = "ksrq"
type = "date"
category = "corrections"
grade = "L3"

[[datasets.fields]]
name = "sessions_missed"
column = "jcbs"
type = "integer"
category = "corrections"
grade = "L3"

[[datasets.fields]]
name = "active"
column = "sfzj"
type = "boolean"
category = "administrative"
grade = "L2"

[[datasets.fields]]
name = "notes"
column = "bz"
type = "text"
category = "corrections"
grade = "L4"

[[datasets.group_rules]]
group = "drug_involved"
column = "sdlx"
in = ["吸毒"]

[[datasets]]
name = "visits"
description = "走访记录"
query = "SELECT v.jlbh, v.dxbh, v.zfrq, v.zfnr, v.gxsj, j.jzwg FROM zfjl v JOIN jzdx j ON j.dxbh = v.dxbh"
id_column = "jlbh"
updated_at_column = "gxsj"
jurisdiction_column = "jzwg"
export = ["visit_date", "visit_notes", "subject_id"]

[[datasets.fields]]
name = "visit_date"
column = "zfrq"
type = "date"
category = "corrections"
grade = "L3"

[[datasets.fields]]
name = "visit_notes"
column = "zfnr"
type = "text"
category = "corrections"
grade = "L4"

[[datasets.fields]]
name = "subject_id"
column = "dxbh"
type = "integer"
category = "administrative"
grade = "L2"
"""


def write_config(
    tmp_path: Path, database_url: str, state_url: str, edit: Callable[[str], str] | None = None
) -> Path:
    """Write the department's adapter configuration; ``edit`` rewrites the TOML text (for error cases)."""
    secret_file = tmp_path / "linkage.key"
    secret_file.write_bytes(SECRET)
    body = CONFIG.format(database_url=database_url, state_url=state_url, secret_file=secret_file)
    if edit is not None:
        body = edit(body)
    path = tmp_path / "justice.toml"
    path.write_text(body, encoding="utf-8")
    return path
