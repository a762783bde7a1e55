"""Saved-page fixtures for the HTML benchmark and tests: local-news articles written for govtext
(no third-party text), each laid out the way Chinese government portals, county news sites and
official-account mirrors lay out theirs — menus, breadcrumbs, datelines, share bars, related-news
lists, editor lines, copyright and ICP footers — in UTF-8, GB2312 and Big5.

    python benchmarks/html_pages.py OUT_FOLDER     # writes the pages and gold.json

Each page comes with its gold: the body paragraphs (what an extractor must keep) and the
boilerplate strings (what it should drop).
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/html.py would shadow the stdlib module

import json  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from html import escape  # noqa: E402


@dataclass(frozen=True)
class Article:
    slug: str
    title: str
    date: str
    source: str
    paragraphs: tuple[str, ...]


ARTICLES = (
    Article("wenming", "和平街道：文明实践站办起“家门口”的志愿服务", "2024-05-08", "河西区融媒体中心", (
        "5月7日上午，和平街道新时代文明实践站门前排起了长队，理发、量血压、修小家电的志愿者摊位一字排开，前来办事的居民络绎不绝。",
        "“以前修个电饭锅要跑好几条街，现在在家门口就能办。”家住光明里小区的王阿姨一边等候，一边和邻居拉起了家常。",
        "据了解，今年以来街道依托文明实践站共组织志愿服务活动48场，参与志愿者600余人次，服务居民3000余人次。",
        "下一步，街道将把志愿服务延伸到各个小区楼栋，推动文明实践阵地从“有”到“优”转变。",
    )),
    Article("yishi", "东湖社区召开居民议事会 共商老旧小区加装电梯", "2024-06-12", "东湖镇人民政府", (
        "6月11日晚，东湖社区党群服务中心会议室里座无虚席，来自8个楼栋的居民代表、物业公司负责人和社区“两委”成员围坐一起，商议老旧小区加装电梯事宜。",
        "会上，社区工作人员介绍了加装电梯的政策规定、补贴标准和申请流程，低楼层住户代表提出了采光、噪音等方面的顾虑。",
        "经过两个多小时的充分讨论，与会代表就费用分摊、施工时间和后期维护形成了三条共识，并约定由楼栋长牵头收集意见。",
        "社区党委书记表示，将继续用好居民议事会这一平台，让群众的事由群众商量着办。",
    )),
    Article("dangjian", "红色物业让小区治理有了“主心骨”", "2024-03-21", "城南区委组织部", (
        "走进城南区阳光花园小区，楼道整洁明亮，车辆停放有序。很难想象，两年前这里还因物业服务问题矛盾不断。",
        "转变始于小区党支部的成立。街道推动物业企业党组织与社区党委结对共建，选派党员骨干担任物业项目负责人，建立“党支部+业委会+物业”三方议事机制。",
        "在职党员主动到社区报到，亮身份、领任务，认领了环境整治、矛盾调解等12个服务岗位。",
        "如今，小区物业费收缴率从不足六成提高到九成以上，居民满意度明显提升。",
    )),
    Article("laji", "垃圾分类进小区 桶边督导见实效", "2024-07-03", "青山街道办事处", (
        "清晨七点，青山街道幸福里小区的垃圾投放点旁，身穿红马甲的志愿者正在指导居民分类投放。",
        "街道在辖区32个小区设置了定时定点投放点，组建了由楼栋长、党员和热心居民组成的督导队伍，每天早晚两个时段轮流值守。",
        "为调动居民积极性，社区推出积分兑换制度，居民正确分类投放可获得积分，兑换洗衣液、纸巾等生活用品。",
        "三个月来，小区厨余垃圾分出量增长了近四成，混投现象明显减少。",
    )),
    Article("tiaojie", "“老娘舅”调解室化解邻里纠纷百余件", "2024-09-18", "江北区司法局", (
        "在江北区滨江社区，提起“老娘舅”调解室，居民们都竖起大拇指。调解室由五名退休干部和教师组成，专门调处邻里之间的矛盾纠纷。",
        "今年夏天，两户居民因空调外机噪音问题多次争吵。调解员上门了解情况后，邀请双方坐下来面对面沟通，最终商定由一方出资挪移外机位置。",
        "调解室成立三年来，累计化解邻里纠纷、家庭矛盾等各类纠纷一百余件，调解成功率达到95%以上。",
        "下一步，社区将在各网格推广这一做法，把矛盾纠纷化解在萌芽状态。",
    )),
    Article("yanglao", "社区嵌入式养老服务站投入使用", "2024-10-09", "南湖区民政局", (
        "10月8日，南湖区长春社区嵌入式养老服务站正式投入使用，为辖区老年人提供助餐、日间照料、康复护理等服务。",
        "服务站面积约600平方米，设有老年食堂、康复训练室、阅览室和休息区，可同时容纳50名老人活动。",
        "社区还联合辖区医院开展家庭医生签约服务，为行动不便的老人提供上门巡诊。",
        "开业首日，前来用餐的老人就有80多位。“饭菜可口，价格实惠，离家又近。”78岁的张大爷说。",
    )),
    Article("yifeng", "移风易俗树新风 红白理事会显身手", "2024-04-02", "临河县融媒体中心", (
        "近日，临河县柳树村村民李某家办喜事，按照村规民约，酒席控制在十桌以内，不请戏班、不放烟花，村红白理事会全程帮忙操办。",
        "柳树村于去年成立红白理事会，由村里德高望重的老党员和乡贤担任理事，将婚丧事宜标准写入村规民约。",
        "一年来，全村共简办婚丧事宜二十余起，为村民节约开支六十余万元，天价彩礼、大操大办等陈规陋习明显减少。",
    )),
    Article("wangge", "网格员化身“店小二” 服务群众零距离", "2024-11-15", "西城区政法委", (
        "西城区将辖区划分为286个网格，每个网格配备一名专职网格员，负责信息采集、隐患排查、政策宣传等工作。",
        "网格员每天走访入户，居民反映的问题通过手机应用实时上报，能当场解决的当场解决，不能解决的按流程转交相关部门。",
        "今年以来，全区网格员共上报各类事件1.2万余件，办结率达到98.6%，群众满意率持续提升。",
        "区委政法委有关负责人介绍，下一步将推动网格与党建、综治、城管等力量深度融合，打造共建共治共享的基层治理格局。",
    )),
)

SITE_NAV = ("首页", "政务公开", "政务服务", "互动交流", "走进本区", "专题专栏")
RELATED = ("区委常委会召开专题会议研究部署重点工作", "我区召开安全生产工作推进会", "全区秋冬季森林防火工作会议召开",
           "关于公开征求意见的公告", "区政府常务会议研究民生实事项目")
FOOTER = ("版权所有：河西区人民政府办公室", "网站标识码：1201030001", "津ICP备05001234号", "津公网安备 12010302000123号",
          "主办单位：河西区人民政府 承办单位：区大数据中心")


def _paras(a: Article, tag: str = "p", style: str = "") -> str:
    attr = f' style="{style}"' if style else ""
    return "\n".join(f"<{tag}{attr}>{escape(p)}</{tag}>" for p in a.paragraphs)


def gov_portal(a: Article) -> tuple[str, list[str]]:
    """An old government portal: table layout, breadcrumb, dateline, TRS editor div, print/close links."""
    nav = "".join(f'<td><a href="/c{i}/">{n}</a></td>' for i, n in enumerate(SITE_NAV))
    related = "".join(f'<li><a href="/art/{i}.html">{t}</a><span>2024-0{i + 1}-1{i}</span></li>'
                      for i, t in enumerate(RELATED))
    html = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{escape(a.title)}_河西区人民政府</title>
<meta name="ArticleTitle" content="{escape(a.title)}"><meta name="PubDate" content="{a.date} 09:30">
<meta name="ContentSource" content="{escape(a.source)}">
<script>var _hmt = _hmt || []; function fontZoom(size){{document.getElementById('zoom').style.fontSize=size+'px';}}</script>
</head><body>
<table width="1000" align="center"><tr><td><img src="/images/banner.jpg" alt="河西区人民政府"></td></tr>
<tr><td><table class="nav"><tr>{nav}</tr></table></td></tr></table>
<table width="1000" align="center"><tr><td class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/">新闻中心</a> &gt; <a href="/xwzx/jzdt/">街镇动态</a></td></tr>
<tr><td align="center" class="title"><h2>{escape(a.title)}</h2></td></tr>
<tr><td align="center" class="info">发布时间：{a.date} &nbsp; 来源：{escape(a.source)} &nbsp; 浏览次数：<span id="hits">1286</span> &nbsp; 【字体：<a href="javascript:fontZoom(16)">大</a> <a href="javascript:fontZoom(14)">中</a> <a href="javascript:fontZoom(12)">小</a>】</td></tr>
<tr><td><div id="zoom"><div class="TRS_Editor">{_paras(a, style="text-indent:2em")}</div></div></td></tr>
<tr><td align="right">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</td></tr>
<tr><td>上一篇：<a href="/a/1.html">{RELATED[0]}</a><br>下一篇：<a href="/a/2.html">{RELATED[1]}</a></td></tr></table>
<div class="related"><h3>相关链接</h3><ul>{related}</ul></div>
<div class="footer"><p>{FOOTER[0]} {FOOTER[4]}</p><p>{FOOTER[1]} {FOOTER[2]} {FOOTER[3]}</p></div>
</body></html>"""
    boiler = list(SITE_NAV[1:]) + ["当前位置", "浏览次数", "打印本页", "关闭窗口", "上一篇", *RELATED, *FOOTER]
    return html, boiler


def news_portal(a: Article) -> tuple[str, list[str]]:
    """A county news site: header menu, <article>, share bar, editor line, hot list, comment box."""
    nav = "".join(f'<li><a href="/{i}">{n}</a></li>' for i, n in enumerate(("首页", "时政", "民生", "乡镇", "视频", "专题")))
    hot = "".join(f'<li><span>{i + 1}</span><a href="/h/{i}">{t}</a></li>' for i, t in enumerate(RELATED))
    html = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(a.title)} - 临河新闻网</title>
<meta property="og:title" content="{escape(a.title)}"><meta property="og:site_name" content="临河新闻网">
<meta name="description" content="{escape(a.paragraphs[0][:40])}">
<meta property="article:published_time" content="{a.date}T08:00:00+08:00">
<link rel="stylesheet" href="/s.css"></head><body>
<header><div class="logo">临河新闻网</div><nav><ul>{nav}</ul></nav><form><input placeholder="请输入关键词"><button>搜索</button></form></header>
<main><article><h1>{escape(a.title)}</h1>
<div class="meta"><span class="time">{a.date} 08:00</span><span class="src">来源：{escape(a.source)}</span><span class="author">记者 周文 通讯员 陈静</span></div>
<div class="content">{_paras(a)}</div>
<p class="editor">责任编辑：王芳 审核：刘强</p>
<div class="share">分享到：<a>微信</a><a>微博</a><a>QQ空间</a></div></article>
<aside><h3>热点排行</h3><ol>{hot}</ol></aside>
<section class="comments"><h3>网友评论</h3><p>登录后发表评论</p><p>已有0条评论</p></section></main>
<footer><p>临河新闻网 版权所有 未经授权禁止转载</p><p>违法和不良信息举报电话：0471-1234567</p><p>{FOOTER[2]}</p></footer>
</body></html>"""
    boiler = ["时政", "乡镇", "请输入关键词", "分享到", "热点排行", *RELATED, "网友评论", "登录后发表评论", "版权所有 未经授权禁止转载",
              "违法和不良信息举报电话", FOOTER[2]]
    return html, boiler


def account_mirror(a: Article) -> tuple[str, list[str]]:
    """An official-account article mirrored on a site: follow prompts, a QR caption, 'read more'."""
    html = f"""<html><head><meta charset="UTF-8"><title>{escape(a.title)}</title>
<meta property="og:title" content="{escape(a.title)}"></head><body>
<div id="js_article" class="rich_media"><h1 class="rich_media_title">{escape(a.title)}</h1>
<div class="rich_media_meta_list"><span>{escape(a.source)}</span> <em id="publish_time">{a.date}</em></div>
<div class="rich_media_content" id="js_content">
<p><span style="color:#888">点击上方蓝字关注我们</span></p>
{_paras(a, "section")}
<p><img src="qr.png"></p><p>长按识别二维码关注</p>
<p>来源：{escape(a.source)}</p><p>编辑：小青 | 审核：老刘</p></div>
<div class="rich_media_tool"><a>阅读原文</a> 阅读 2.3万 在看 128</div></div>
<div class="qr_code_pc"><p>微信扫一扫<br>关注该公众号</p></div>
</body></html>"""
    boiler = ["点击上方蓝字关注我们", "长按识别二维码关注", "阅读原文", "微信扫一扫", "关注该公众号"]
    return html, boiler


def br_page(a: Article) -> tuple[str, list[str]]:
    """A page without paragraph tags: <br> breaks and <font>, a long sidebar of headlines, Big5."""
    from govtext.text.clean import to_traditional

    side = "".join(f'<a href="/n/{i}">{t}</a><br>' for i, t in enumerate(RELATED * 2))
    body = "<br><br>\n".join("　　" + escape(p) for p in a.paragraphs)
    html = f"""<html><head><meta http-equiv="content-type" content="text/html;charset=big5">
<title>{escape(a.title)}</title></head><body bgcolor="#ffffff">
<div id="top"><a href="/">網站首頁</a> | <a href="/news">新聞動態</a> | <a href="/gov">政務資訊</a> | <a href="/contact">聯絡我們</a></div>
<table><tr><td width="200" valign="top"><b>最新消息</b><br>{side}</td>
<td valign="top"><font size="4"><b>{escape(a.title)}</b></font><br>
<font color="#666">發佈日期：{a.date}　來源：{escape(a.source)}</font><hr>
<font size="3">{body}</font><hr>
</td></tr></table>
<div id="bottom">Copyright 2024 網站版權所有 地址：中山路100號 電話：12345678</div></body></html>"""
    html = to_traditional(html)
    boiler = [to_traditional(x) for x in ("網站首頁", "新聞動態", "聯絡我們", "最新消息", *RELATED, "網站版權所有", "地址：中山路100號")]
    return html, boiler


LAYOUTS = {"gov": (gov_portal, "gb2312"), "news": (news_portal, "utf-8"), "account": (account_mirror, "utf-8"),
           "big5": (br_page, "big5")}


def pages() -> list[dict]:
    """Every article in every layout: name, encoding, bytes, the gold body paragraphs and the boilerplate."""
    from govtext.text.clean import to_traditional

    out = []
    for layout, (make, encoding) in LAYOUTS.items():
        for a in ARTICLES:
            html, boiler = make(a)
            body = [to_traditional(p) for p in a.paragraphs] if layout == "big5" else list(a.paragraphs)
            title = to_traditional(a.title) if layout == "big5" else a.title
            out.append({"name": f"{layout}_{a.slug}.html", "layout": layout, "encoding": encoding, "title": title,
                        "date": a.date, "data": html.encode(encoding, "xmlcharrefreplace"), "body": body, "boilerplate": boiler})
    return out


def write_pages(folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gold = []
    for p in pages():
        (folder / p["name"]).write_bytes(p["data"])
        gold.append({k: v for k, v in p.items() if k != "data"})
    (folder / "gold.json").write_text(json.dumps(gold, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


if __name__ == "__main__":
    print(write_pages(sys.argv[1] if len(sys.argv) > 1 else "pages"))
