"""Writes the archive test corpus: 60 short press releases over 20 months (January 2021 to
August 2022) from 3 publishers, with answers by 12 speakers of 6 organisations; 3 releases
have no date. Deterministic (seed 14); run from anywhere: ``python make_archive.py``.

Each release is one ``releases/release-NN.txt`` file:

    title
    opening paragraph, with the date (``2021年3月5日``) unless undated
    one or two body paragraphs
    答记者问
    one to three questions (``记者：...``), each answered by a speaker line
    (``市商务局党组成员、副局长、新闻发言人王海波：...``) and one more answer paragraph
    ``记者|... 编辑|...``
    the publisher: ``来源：齐鲁晚报``, ``德州日报新媒体出品``, or the notice
    ``德州新闻网版权与免责声明：`` with one item

Words placed for tests: 外贸 only in answers of 市商务局; 核酸检测 in answers of 市卫健委 and in
some opening paragraphs.
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent / "releases"
MONTHS = [(2021 + (m - 1) // 12, (m - 1) % 12 + 1) for m in range(1, 21)]
PUBLISHERS = ["德州新闻网", "德州日报新媒体", "齐鲁晚报"]
SPEAKERS = {
    "市商务局": ["王海波", "李晓东"],
    "市工信局": ["田志宏", "周建国"],
    "市卫健委": ["陈玉兰", "刘明超"],
    "市交通运输局": ["赵文斌"],
    "市教育局": ["孙丽娟", "吴鹏飞"],
    "市农业农村局": ["郑红霞", "黄伟东", "马秀英"],
}
TOPICS = {
    "市商务局": ("商务运行", "今年以来全市外贸进出口保持增长，重点企业订单充足。",
                "二是加大外贸市场开拓力度，组织企业参加线上展会。"),
    "市工信局": ("工业经济运行", "全市规模以上工业企业生产经营总体平稳，重点项目有序推进。",
                "二是梳理企业物流运输问题，协调解决原材料供应。"),
    "市卫健委": ("疫情防控", "全市已完成重点人群核酸检测，结果均为阴性。",
                "二是优化核酸检测采样点布局，方便群众就近检测。"),
    "市交通运输局": ("交通物流保障", "全市公路货运总体畅通，重点物资运输车辆通行顺畅。",
                  "二是开通重点物资运输绿色通道，保障物流不断链。"),
    "市教育局": ("春季开学", "全市中小学校春季学期开学准备工作已基本就绪。",
              "二是做好校园安全检查，落实各项防护措施。"),
    "市农业农村局": ("春耕生产", "全市春耕备播进展顺利，农资供应充足。",
                  "二是组织农技人员下乡指导，帮助农户解决实际困难。"),
}


def release(number: int, rng: random.Random) -> str:
    year, month = MONTHS[0 if number == 41 else number % 20]
    undated = number in (7, 31, 52)
    if number in (0, 20):  # the first and the last day of a month
        day = 1 if number == 0 else 31
    elif number in (40, 41):  # two releases on the same day (15 January 2021)
        day = 15
    else:
        day = rng.randint(2, 28)
    orgs = rng.sample(sorted(SPEAKERS), rng.randint(1, 3))
    title_org = orgs[0]
    lines = [f"德州市召开{TOPICS[title_org][0]}新闻发布会（第{number + 1}场）"]
    when = "" if undated else f"{year}年{month}月{day}日，"
    covid = "全市持续做好核酸检测工作。" if number % 4 == 0 else ""
    lines.append(f"{when}德州市政府新闻办公室召开新闻发布会，通报有关工作情况。{covid}")
    lines.extend(rng.sample(["各县市区认真落实各项部署，工作取得积极进展。",
                             "下一步，全市将继续抓好各项工作落实，确保取得实效。",
                             "会上，有关部门负责人回答了记者提问。"], rng.randint(1, 2)))
    lines.append("答记者问")
    for org in orgs:
        speaker = rng.choice(SPEAKERS[org])
        _topic, said, more = TOPICS[org]
        lines.append(f"记者：请介绍一下{org}的有关工作情况。")
        lines.append(f"{org}党组成员、副局长、新闻发言人{speaker}：{said}")
        lines.append(more)
    lines.append(f"记者|{rng.choice(['杨鸣宇', '张晓航'])} 编辑|{rng.choice(['王琳', '朱代军'])}")
    publisher = PUBLISHERS[number % 3]
    if publisher == "齐鲁晚报":
        lines.append(f"来源：{publisher}")
    elif publisher == "德州日报新媒体":
        lines.append(f"{publisher}出品")
    else:
        lines.append(f"{publisher}版权与免责声明：")
        lines.append(f"①凡本网注明“来源：{publisher}”的所有作品，版权均属于{publisher}，"
                     "未经本网授权不得转载。")
    return "\n".join(lines) + "\n"


def main() -> None:
    rng = random.Random(14)
    for number in range(60):
        (HERE / f"release-{number + 1:02d}.txt").write_text(release(number, rng),
                                                            encoding="utf-8")


if __name__ == "__main__":
    main()
