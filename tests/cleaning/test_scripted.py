"""SCRIPTED: one comment pasted with small edits into many responses (issue 15)."""

from __future__ import annotations

from cleaning_helpers import public, ratings

from pingyi.cleaning import clean

STOCK = "服务态度很好，办事效率高，非常满意"
TEMPLATE = "三号窗口的同志业务精通热情周到真心为群众办实事必须给五星好评"


def commented(rid: str, window: str, text: str, minutes: float, day: int = 0) -> list[dict]:
    return [{**r, "comment": text} for r in public(rid, window, 5, minutes=minutes, day=day)]


WORDS = (
    "材料",
    "排队",
    "取号",
    "耐心",
    "解释",
    "证明",
    "复印",
    "签字",
    "电脑",
    "系统",
    "等了",
    "很久",
    "很快",
    "下午",
    "上午",
    "老人",
    "孩子",
    "户口",
    "社保",
    "公积金",
    "发票",
    "营业执照",
    "不动产",
    "预约",
    "手机",
    "扫码",
    "填表",
    "指导",
    "窗口",
    "大厅",
    "空调",
    "座位",
    "停车",
)


def honest_hall() -> list[dict]:
    """Eight windows; every third citizen writes the stock phrase, the others their own
    words."""
    records: list[dict] = []
    n = 0
    for w in range(8):
        for k in range(12):
            words = [WORDS[(n * 7 + j * 13 + j * j * n) % len(WORDS)] for j in range(5)]
            text = STOCK if k % 3 == 0 else "".join(words) + f"{n}"
            records += commented(f"W{w}-{k}", f"W{w}", text, minutes=k * 30, day=k % 5)
            n += 1
    return records


def scripted_ids(records) -> set[str]:
    return {f.response_id for f in clean(ratings(records)).flags if f.reason == "SCRIPTED"}


def test_a_pasted_comment_with_small_edits_on_one_window_is_excluded():
    records = honest_hall()
    edits = [TEMPLATE, TEMPLATE.replace("精通", "很通"), TEMPLATE + "！！", TEMPLATE[:-2] + "好的"]
    for k in range(8):
        records += commented(f"paid-{k}", "W3", edits[k % 4], minutes=500 + k, day=k % 3)
    assert scripted_ids(records) == {f"paid-{k}" for k in range(8)}


def test_a_stock_phrase_written_everywhere_and_short_praise_are_honest():
    records = honest_hall()
    for k in range(30):  # "很好" at every window, many times
        records += commented(f"short-{k}", f"W{k % 8}", "很好！", minutes=700 + k)
    assert scripted_ids(records) == set()


def test_comments_survive_the_csv_and_records_paths():
    records = honest_hall()
    table = ratings(records)
    assert table.comment is not None and STOCK in set(table.comment.tolist())


def test_the_file_reader_keeps_the_optional_comment_column(tmp_path):
    from pingyi.cleaning import COLUMNS, read_ratings_csv

    path = tmp_path / "r.csv"
    header = ",".join((*COLUMNS, "comment"))
    line = "r1,public,,W1,overall,5,2026-03-02T10:00:00,30,d1,T1,qr"
    path.write_text(f'{header}\n{line},"很好，谢谢"\n{line.replace("r1", "r2")},\n', "utf-8")
    table = read_ratings_csv(path)
    assert table.comment is not None and table.comment.tolist() == ["很好，谢谢", ""]
    without = tmp_path / "plain.csv"
    without.write_text(f"{','.join(COLUMNS)}\n{line}\n", "utf-8")
    assert read_ratings_csv(without).comment is None
