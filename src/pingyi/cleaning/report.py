"""report.html: what was found and done, self-contained (inline SVG, no script, no URL)."""

from __future__ import annotations

import math
from html import escape

from pingyi import charts

from .types import REASONS, CleaningResult

# one sentence per reason code, shown in the report
REASON_EXPLANATIONS = {
    "DUPLICATE": "同一票号或同一设备指纹在短时间内对同一对象重复评价，只计第一次。",
    "SPEEDER": "作答用时远低于该问卷的中位用时，来不及读题，整份不计。",
    "STRAIGHTLINE": "多题问卷所有题目给同一分（习惯性或极快），只反映总体印象，降低权重。",
    "BOT": "触发蜜罐题或用时低于人工作答的物理下限，判定为机器提交，不计。",
    "OFF_HOURS": "提交时间不在大厅办理时间内，当时没有人被服务，不计。",
    "BURST": (
        "短时间内同一对象集中收到大量满分且设备指纹很少，或评价数超过叫号系统服务人数（刷票）。"
    ),
    "LENIENT": "评价人普遍比其他人对同一对象打分偏高，已从其评分中扣除估计的偏差（不剔除）。",
    "SEVERE": "评价人普遍比其他人对同一对象打分偏低，已从其评分中加回估计的偏差（不剔除）。",
    "CENTRAL": "评价人对所有对象几乎打同样的分，不区分好坏，降低权重。",
    "HALO": "评价人在同一问卷内各题评分几乎相同，分项随总体印象走，降低权重。",
    "MISFIT": "评价人的评分与其他人的判断系统性不一致（近似随机作答），降低权重。",
    "OUTLIER": "单个评分在偏差校正后远离该对象的共识（稳健标准差的多倍），按距离降低权重。",
    "RECIPROCAL": "两人互评都明显高于其他人对他们的评价（人情分），二人互评不计。",
    "CLIQUE": "小团体成员之间互评普遍偏高而外部评价正常（抱团），团体内互评不计。",
    "SCRIPTED": (
        "多份评价的留言相同或近乎相同（同一句话稍加改动），疑为统一组织或有偿的评价，不计。"
    ),
    "INTERVIEWER": (
        "访问员的结果与其他渠道对同一窗口的评价相差超出偶然（降低权重），"
        "或同一访问员、同一设备某日全部满分且偶然概率极低（整日不计）。"
    ),
}

ROLE_ZH = {"public": "群众", "peer": "同事", "superior": "上级", "self": "自评"}

CSS = """
body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#000}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #888;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#eee}.num{text-align:right}
figure{display:inline-block;margin:0.5em}
"""


def _num(x: float, digits: int = 2) -> str:
    return "" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def render_report(result: CleaningResult, title: str = "评议数据清洗报告") -> str:
    counts = result.flags_by_reason(include_overridden=False)
    overridden = sum(1 for f in result.flags if f.overridden)
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>共 {result.n_answers} 个作答、{result.n_responses} 份问卷；"
        f"{len(result.flags)} 条处理决定（其中 {overridden} 条已被人工撤销）；"
        f"{len(result.groups)} 个疑似人情分团体；"
        f"{sum(result.default_channel_responses.values())} 条平台默认好评未计入任何统计。</p>",
        "<h2>按原因统计</h2>",
        "<table><tr><th>原因代码</th><th>条数</th><th>含义</th></tr>",
    ]
    for reason in REASONS:
        parts.append(
            f"<tr><td>{reason}</td><td class='num'>{counts[reason]}</td>"
            f"<td>{escape(REASON_EXPLANATIONS[reason])}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        charts.bar_chart(list(REASONS), [float(counts[r]) for r in REASONS], "各原因处理条数")
    )

    parts.append("<h2>清洗的影响</h2>")
    parts.append(
        "<p>清洗把每个对象的得分从原始均分移动了多少（1–5 分制）。证据不足时清洗不做处理，"
        "得分保持原始均分。</p><table><tr><th>角色</th><th>对象数</th><th>得分有变化</th>"
        "<th>平均变化</th><th>平均绝对变化</th><th>最大变化</th><th>未采用问卷</th></tr>"
    )
    for e in result.effect():
        parts.append(
            f"<tr><td>{ROLE_ZH.get(e.role, e.role)}</td><td class='num'>{e.ratees}</td>"
            f"<td class='num'>{e.moved}</td><td class='num'>{e.mean_shift:+.3f}</td>"
            f"<td class='num'>{e.mean_abs_shift:.3f}</td>"
            f"<td class='num'>{e.largest_shift:+.3f}</td>"
            f"<td class='num'>{e.responses_unused} / {e.responses}</td></tr>"
        )
    parts.append("</table>")
    if result.fallbacks:
        parts.append(
            f"<p>{len(result.fallbacks)} 个对象·角色组合若按清洗结果将少于 k 名评价人，"
            "因此保留未清洗的原始均分（未做剔除）。</p>"
        )

    # raw vs clean per ratee: the largest shifts first
    # only reportable groups: the k rule protects small groups in every output
    shifted = [
        s
        for s in result.scores
        if s.reportable and not math.isnan(s.clean_mean) and not math.isnan(s.raw_mean)
    ]
    hidden = sum(1 for s in result.scores if not s.reportable)
    shifted.sort(key=lambda s: (-abs(s.clean_mean - s.raw_mean), s.ratee, s.role))
    top = shifted[:25]
    parts.append("<h2>清洗前后变化（变化最大的对象）</h2>")
    parts.append(
        f"<p>另有 {hidden} 个对象·角色组合不满足 k 规则（评价人或问卷太少），此处不显示。</p>"
    )
    if top:
        parts.append(
            charts.bar_chart(
                [f"{s.ratee} · {ROLE_ZH.get(s.role, s.role)}" for s in top],
                [s.clean_mean - s.raw_mean for s in top],
                "清洗后均分 − 原始均分",
                width=720,
            )
        )
    parts.append(
        "<table><tr><th>对象</th><th>角色</th><th>问卷数</th><th>采用</th><th>原始均分</th>"
        "<th>清洗后</th><th>95% 区间</th><th>满意率</th><th>可公布</th></tr>"
    )
    for s in top:
        parts.append(
            f"<tr><td>{escape(s.ratee)}</td><td>{ROLE_ZH.get(s.role, s.role)}</td>"
            f"<td class='num'>{s.n_responses}</td><td class='num'>{s.n_used}</td>"
            f"<td class='num'>{_num(s.raw_mean)}</td><td class='num'>{_num(s.clean_mean)}</td>"
            f"<td>{_num(s.ci_low)}–{_num(s.ci_high)}</td>"
            f"<td class='num'>{_num(s.satisfaction_rate * 100, 1)}</td>"
            "<td>是</td></tr>"
        )
    parts.append("</table>")

    parts.append("<h2>评价人偏差分布</h2>")
    biases = list(result.rater_bias.values())
    parts.append(
        f"<p>{len(biases)} 位评价人（同事、上级）有足够评分可估计偏差；正值为偏松，负值为偏严。"
        "偏差显著者已校正（LENIENT / SEVERE）。</p>"
    )
    parts.append(charts.histogram(biases, 30, "评价人偏差（1–5 分制）", "偏差（分）"))

    parts.append("<h2>疑似人情分团体</h2>")
    if not result.groups:
        parts.append("<p>未发现。</p>")
    for k, group in enumerate(result.groups[:30], start=1):
        kind = "互评抬分" if group.kind == "RECIPROCAL" else "小团体"
        parts.append(
            "<figure>"
            + charts.graph(group.members, group.edges, f"{k}. {kind}（{group.kind}）")
            + f"<figcaption>团体内 {group.n_mutual_ratings} 条互评平均高出共识 "
            f"{_num(group.mean_inside_residual)} 分；外部评价平均偏离 "
            f"{_num(group.mean_outside_residual)} 分。箭头：评价人 → 被评人，数字为高出共识的分数。"
            "</figcaption></figure>"
        )
    if len(result.groups) > 30:
        parts.append(f"<p>另有 {len(result.groups) - 30} 个团体见 flags.csv。</p>")
    anomalies = result.notes.get("public_pattern_anomalies", 0)
    parts.append(
        f"<p>群众评价中作答模式异常且偏离共识而降权的：{anomalies} 条。"
        "单纯的差评是合法意见，不因分低而降权。</p>"
    )
    if result.stage_seconds:
        timing = "，".join(f"{k} {v:.2f} s" for k, v in result.stage_seconds.items())
        parts.append(f"<p>各阶段用时：{escape(timing)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
