"""Titles count: a record's title is analysed with its body (title first, as the model was trained),
whether the record comes from a .txt file, JSON Lines, a CSV with Chinese column names or a frame."""

from __future__ import annotations

import csv
import json

import pytest

from govtext.apps.cli import main
from govtext.text.io import Fields, iter_records, record_text, titled_text

# Bland bodies: what they are about is said in the title alone.
ITEMS = [
    ("a1", "和平街道新时代文明实践站开展志愿服务活动", "2024-03-02",
     "本周六上午，居民们来到活动室，工作人员为大家准备了茶水，活动持续了两个小时，大家都表示收获很多。"),
    ("a2", "幸福社区党支部召开党员大会 开展主题党日活动", "2024-04-11",
     "会议在社区二楼会议室举行，到会人员按时签到，会后大家合影留念，整个过程井然有序。"),
    ("a3", "东湖社区召开居民议事会 共商加装电梯事宜", "2024-05-20",
     "当天下午，来自各楼栋的代表陆续到场，大家围坐一起，气氛热烈，会议持续到傍晚才结束。"),
    ("a4", "区文化馆举办春季书画展", "2024-03-15",
     "展览在一楼展厅举行，展出作品六十余幅，开放时间为每天上午九点至下午五点，市民可免费参观。"),
]


def _write_copies(tmp_path):
    folder = tmp_path / "txt"
    folder.mkdir()
    for rid, title, _, body in ITEMS:
        (folder / f"{rid}.txt").write_text(f"{title}\n{body}\n", encoding="utf-8")
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_text("".join(json.dumps({"id": rid, "title": t, "date": d, "text": b}, ensure_ascii=False) + "\n"
                             for rid, t, d, b in ITEMS), encoding="utf-8")
    table = tmp_path / "items.csv"
    with open(table, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "标题", "正文", "发布时间", "来源"])
        for rid, t, d, b in ITEMS:
            w.writerow([rid, t, b, d, "某区融媒体中心"])
    return folder, jsonl, table


def _labels(capsys, *argv):
    capsys.readouterr()
    assert main(["classify", "-q", *argv]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [(row["labels"], round(row["p_civility"], 3)) for row in rows], rows


def test_txt_jsonl_and_chinese_csv_copies_give_the_same_labels(tmp_path, capsys):
    folder, jsonl, table = _write_copies(tmp_path)
    from_txt, _ = _labels(capsys, str(folder))
    from_jsonl, jrows = _labels(capsys, str(jsonl))
    from_csv, crows = _labels(capsys, str(table), "--id-field", "编号")
    assert from_txt == from_jsonl == from_csv
    # The titles carry the themes: without them the bland bodies get none of these labels.
    assert "civility" in from_jsonl[0][0] and "party_building" in from_jsonl[1][0]
    assert "co_governance" in from_jsonl[2][0]
    bodies, _ = _labels(capsys, str(jsonl), "--title-field", "no_such_field")
    assert bodies[0][1] < 0.5 < from_jsonl[0][1]
    # Title and date from the Chinese columns reach the output rows.
    assert [r["id"] for r in crows] == ["a1", "a2", "a3", "a4"]
    assert crows[0]["title"] == ITEMS[0][1] and crows[0]["date"] == "2024-03-02"
    assert jrows[3]["title"] == ITEMS[3][1]


def test_count_and_index_read_the_title(tmp_path, capsys):
    _, jsonl, table = _write_copies(tmp_path)
    assert main(["count", "-q", str(table), "--id-field", "编号"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["title"] == ITEMS[0][1] and rows[0]["date"] == "2024-03-02"
    assert rows[0]["civility"] >= 1  # 新时代文明实践 / 志愿服务 are in the title only
    out = tmp_path / "idx"
    assert main(["index", "-q", str(jsonl), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["similar", "--index", str(out), "--json", "居民议事会 加装电梯"]) == 0
    top = json.loads(capsys.readouterr().out.splitlines()[0])
    assert top["id"] == "a3" and top["metadata"]["title"] == ITEMS[2][1]


def test_classify_frame_classifies_title_with_text():
    pd = pytest.importorskip("pandas")
    from govtext import classify_frame

    df = pd.DataFrame({"标题": [t for _, t, _, _ in ITEMS], "正文": [b for _, _, _, b in ITEMS]})
    with_titles = classify_frame(df, progress=False)
    bodies_only = classify_frame(df[["正文"]], progress=False)
    assert "civility" in with_titles["labels"][0]
    assert with_titles["p_civility"][0] > 0.5 > bodies_only["p_civility"][0]
    with pytest.raises(Exception, match="no column 'headline'"):
        classify_frame(df, title_field="headline")


def test_fields_recognise_chinese_names_and_user_names():
    f = Fields.of()
    assert f.find(f.text, ["标题", "内容"]) == "内容"
    assert f.find(f.date, ["发布时间"]) == "发布时间"
    assert Fields.of(title_field="headline").title == ("headline",)
    assert titled_text("正文。", None) == "正文。"
    assert titled_text("标题\n正文。", "标题") == "标题\n正文。"


def test_records_put_title_date_source_under_english_names(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"标题": "题", "内容": "正文内容。", "日期": "2024-01-01", "来源": "某报",
                                "栏目": "要闻"}, ensure_ascii=False) + "\n", encoding="utf-8")
    (rec,) = iter_records([path])
    assert rec.text == "正文内容。"
    assert rec.metadata == {"title": "题", "date": "2024-01-01", "source": "某报", "栏目": "要闻"}
    assert record_text(rec) == "题\n正文内容。"
    (rec,) = iter_records([path], text_field="标题")
    assert rec.text == "题" and "内容" in rec.metadata
