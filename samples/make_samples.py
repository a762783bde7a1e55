"""Write govtext's sample corpus: short synthetic local-news items (written for govtext, no
third-party text) with titles, dates, sources and places, in the files README.md and README.zh.md use.

    python samples/make_samples.py          # rewrites the files below next to this script

* ``news.jsonl`` — 360 items: ``id``, ``title``, ``text``, ``date``, ``source``, ``place``, ``theme``
  (the theme the generator wrote the item about, or ``none``)
* ``news.csv`` — the same items with the column names of Chinese crawler exports
  (编号, 标题, 正文, 发布时间, 来源, 地点)
* ``coded.jsonl`` — 60 of them with 0/1 codes per theme (for ``govtext evaluate``)
* ``proposal.txt`` — a proposal to find comparable cases for; ``proposals.txt`` three, one a line
* ``lexicon.tsv`` — a small lexicon (``category<TAB>term``, ``exclude<TAB>phrase``)

The items are made from templates, so they are repetitive by design: they exist to show every
command working, not to measure anything.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

PLACES = [
    ("上海市", "浦东新区", "花木街道"), ("上海市", "徐汇区", "田林街道"), ("上海市", "静安区", "彭浦新村街道"),
    ("浙江省", "杭州市西湖区", "文新街道"), ("浙江省", "宁波市鄞州区", "下应街道"), ("江苏省", "南京市鼓楼区", "宁海路街道"),
    ("江苏省", "苏州市姑苏区", "平江街道"), ("四川省", "成都市武侯区", "玉林街道"), ("湖北省", "武汉市江岸区", "百步亭社区"),
    ("广东省", "深圳市南山区", "粤海街道"), ("北京市", "朝阳区", "劲松街道"), ("山东省", "青岛市市南区", "八大湖街道"),
]
SOURCES = ["融媒体中心", "委宣传部", "民政局", "委组织部", "文明办"]

# (title pattern, sentences) per theme; {p} is the district, {s} the street, {c} a community name.
TEMPLATES = {
    "party_building": [
        ("{s}党工委开展“党建引领基层治理”主题党日活动",
         ["{s}各社区党支部书记和党员代表参加活动，重温入党誓词。", "活动中，党员们围绕服务群众、解决急难愁盼问题交流了做法。",
          "街道党工委要求各支部把党的组织优势转化为治理效能。"]),
        ("{c}社区“红色物业”让小区治理有了主心骨",
         ["{c}社区党委推动物业企业成立党支部，选派党员担任物业项目负责人。", "小区建立党支部、业委会、物业三方联席会议制度，每月研究一次居民诉求。",
          "在职党员到社区报到，亮身份、领任务，认领了多个服务岗位。"]),
        ("{p}召开基层党组织书记述职评议会",
         ["会上，各街道党工委书记围绕抓基层党建工作进行述职。", "与会人员对述职情况进行了评议，指出了存在的问题。",
          "区委组织部负责人要求持续加强基层党组织建设，发挥党员先锋模范作用。"]),
    ],
    "civility": [
        ("{s}新时代文明实践站开展志愿服务活动",
         ["{s}新时代文明实践站组织志愿者走进小区，为居民提供义诊、理发、家电维修等便民服务。",
          "志愿者们还向居民宣传文明城市创建知识，倡导文明新风。", "今年以来，实践站累计开展志愿服务活动四十余场。"]),
        ("{c}社区评选“文明家庭”和“最美楼道”",
         ["{c}社区开展文明家庭和最美楼道评选活动，居民踊跃参与。", "评选结果在社区宣传栏公示，获评家庭分享了家风家训故事。",
          "社区将继续深化群众性精神文明创建，推动移风易俗。"]),
        ("{p}开展文明城市创建“啄木鸟”行动",
         ["{p}组织文明劝导志愿者对背街小巷、农贸市场开展巡查。", "志愿者劝导不文明行为，发现的问题当场登记并督促整改。",
          "此次行动共发现并整改问题一百余处，市民文明素养进一步提升。"]),
    ],
    "co_governance": [
        ("{c}社区召开居民议事会 共商加装电梯",
         ["{c}社区邀请居民代表、物业和楼栋长召开议事会，协商老旧小区加装电梯事宜。", "与会居民就费用分摊、施工时间充分表达意见，形成三条共识。",
          "社区表示，将继续用好居民议事会，让群众的事由群众商量着办。"]),
        ("{s}推行楼道微自治 居民共同清理楼道杂物",
         ["{s}在老旧小区推行楼道微自治，由楼栋长牵头制定楼道公约。", "居民志愿者和物业一起清理楼道杂物，商议停车和垃圾投放规则。",
          "街道将总结经验，推动共建共治共享的社区治理格局。"]),
        ("{p}“民生议事堂”协商解决停车难",
         ["{p}在各街道设立民生议事堂，组织居民、商户和相关部门协商解决停车难问题。", "经过多轮协商，小区周边新增错时共享停车位两百余个。",
          "议事堂还吸纳社会组织和驻区单位参与，形成多方共治合力。"]),
    ],
    "none": [
        ("{p}举办春季招聘会 提供岗位三千余个",
         ["{p}人社部门在体育中心举办春季招聘会，八十余家企业进场招聘。", "岗位涉及制造、物流、餐饮等行业，吸引求职者两千余人次。",
          "现场还设置了政策咨询台，为求职者解答社保和就业补贴问题。"]),
        ("{p}今年粮食生产再获丰收",
         ["{p}今年粮食播种面积保持稳定，总产量比上年略有增长。", "农业部门推广良种良法，加强病虫害统防统治。",
          "秋收期间，各地组织农机跨区作业，确保颗粒归仓。"]),
        ("{p}图书馆新馆开放 设有少儿阅读区",
         ["{p}图书馆新馆正式对外开放，馆藏图书三十余万册。", "新馆设有少儿阅读区、自习区和数字阅读体验区。",
          "开馆首日，前来参观借阅的市民络绎不绝。"]),
    ],
}
COMMUNITIES = ["幸福里", "阳光", "东湖", "和平", "光明", "长春", "滨江", "新华", "景苑", "翠竹"]
THEME_SHARE = {2019: (0.30, 0.20, 0.15), 2020: (0.28, 0.24, 0.18), 2021: (0.30, 0.22, 0.22),
               2022: (0.25, 0.22, 0.26), 2023: (0.24, 0.20, 0.30), 2024: (0.22, 0.18, 0.34)}


def items(n: int = 360, seed: int = 2024) -> list[dict]:
    rng = random.Random(seed)
    out = []
    years = sorted(THEME_SHARE)
    for i in range(n):
        year = years[i % len(years)]
        pb, cv, cg = THEME_SHARE[year]
        theme = rng.choices(["party_building", "civility", "co_governance", "none"], [pb, cv, cg, 1 - pb - cv - cg])[0]
        title_t, sentences = rng.choice(TEMPLATES[theme])
        prov, district, street = rng.choice(PLACES)
        names = {"p": district, "s": street, "c": rng.choice(COMMUNITIES)}
        picked = sentences if rng.random() < 0.5 else rng.sample(sentences, 2)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        out.append({"id": f"n{i + 1:03d}", "title": title_t.format(**names), "text": "".join(s.format(**names) for s in picked),
                    "date": date, "source": f"{district}{rng.choice(SOURCES)}", "place": f"{prov}{district}",
                    "theme": theme})
    return out


def main() -> None:
    rows = items()
    with open(HERE / "news.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(HERE / "news.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "标题", "正文", "发布时间", "来源", "地点"])
        for r in rows:
            w.writerow([r["id"], r["title"], r["text"], r["date"], r["source"], r["place"]])
    labels = ["party_building", "civility", "co_governance"]
    with open(HERE / "coded.jsonl", "w", encoding="utf-8") as fh:
        for r in rows[::6]:
            codes = {lab: int(r["theme"] == lab) for lab in labels}
            fh.write(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"], **codes}, ensure_ascii=False) + "\n")
    (HERE / "proposal.txt").write_text(
        "关于在老旧小区推行楼道微自治的方案\n"
        "由社区党组织牵头，在每个楼栋推选楼栋长，组织居民议事会协商制定楼道公约，"
        "党员带头认领楼道，志愿者定期清理楼道杂物，物业和居民共同商议停车和加装电梯等事项。\n", encoding="utf-8")
    (HERE / "proposals.txt").write_text(
        "在老旧小区推行楼道微自治，党员带头认领楼道\n"
        "依托新时代文明实践站组织志愿者开展便民服务\n"
        "设立民生议事堂，组织居民和商户协商解决停车难\n", encoding="utf-8")
    (HERE / "lexicon.tsv").write_text(
        "# category<TAB>term; exclude<TAB>phrase never counts\n"
        "participation\t居民议事会\nparticipation\t议事会\nparticipation\t协商\nparticipation\t楼栋长\n"
        "volunteering\t志愿者\nvolunteering\t志愿服务\nvolunteering\t新时代文明实践站\n"
        "party\t党支部\nparty\t党员\nparty\t主题党日\nexclude\t党员干部作风\n", encoding="utf-8")


if __name__ == "__main__":
    main()
