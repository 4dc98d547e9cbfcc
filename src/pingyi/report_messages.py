"""Texts of the campaign report (templates/report/campaign.html), merged into
``pingyi.i18n.MESSAGES``: key -> (zh-CN, en). Kept apart only to keep that shared
file short; look them up with ``pingyi.i18n.translate`` like every other text."""

from __future__ import annotations

REPORT_MESSAGES: dict[str, tuple[str, str]] = {
    "report.sec.phone": (
        "电话回访：抽样满意度与扫码满意度",
        "Phone follow-up: sampled and QR satisfaction",
    ),
    "report.phone_summary": (
        "本轮从留有回拨号码的已办件中分层随机抽取 {sampled} 件，完成回访 {completed} 件；"
        "应答率 RR1 {rr1}，接触率 CON1 {con1}。",
        "This round drew {sampled} served tickets with a call-back number at random, "
        "stratified by unit, window and week; {completed} calls were completed "
        "(response rate RR1 {rr1}, contact rate CON1 {con1}).",
    ),
    "report.phone_sat": ("回访满意度", "Phone satisfaction"),
    "report.qr_sat": ("扫码满意度", "QR satisfaction"),
    "report.ci95": ("95% 置信区间", "95% CI"),
    "report.phone_n": ("回访数", "Calls"),
    "report.qr_n": ("扫码评价数", "QR ratings"),
    "report.phone_gap": ("差值（扫码−回访）", "Gap (QR − phone)"),
    "report.phone_help": (
        "回访满意度按入样概率的倒数加权（Hajek 估计，线性化方差，Wilson 区间），代表留有回拨号码的"
        "全部已办件；扫码满意度来自自愿扫码评价的群众（清洗后），可能偏高。两者之差是自选样本偏差的估计。"
        "回访少于 {k} 件或扫码评价少于 {k} 条的单位不显示对应数字，也不给出合计。",
        "Phone satisfaction is weighted by inverse selection probabilities (Hajek estimator, "
        "linearised variance, Wilson interval) and stands for every served ticket with a "
        "call-back number; QR satisfaction comes from citizens who chose to rate (after "
        "cleaning) and may run high. The gap estimates the self-selection bias. A unit with "
        "fewer than {k} calls or {k} QR ratings shows no figure for that side, and no total "
        "is given.",
    ),
    "report.link": ("报告", "Report"),
    "report.title": ("评议报告（白皮书）", "Campaign report"),
    "report.not_cleaned": (
        "评议活动 {code} 尚未完成数据清洗，暂不能生成报告。请先结束活动并运行清洗。",
        "Campaign {code} has not been cleaned yet, so there is no report. "
        "Close it and run the cleaning first.",
    ),
    "report.no_revision": (
        "评议活动 {code} 没有第 {revision} 版清洗结果。",
        "Campaign {code} has no cleaning revision {revision}.",
    ),
    "report.campaign_code": ("活动编号", "Campaign code"),
    "report.period": ("评议期间", "Period"),
    "report.revision": ("清洗版本", "Cleaning revision"),
    "report.generated": ("报告生成时间", "Report generated"),
    "report.units": ("参评单位数", "Units"),
    "report.k_rule": (
        "保护匿名：同事、上级、自评结果只以汇总形式出现；评价人少于 {k} 人的对象不计入任何数字；"
        "少于 {k} 人的分组连同可被推算出它的另一分组一并隐藏；同事评语不出现在报告中。",
        "Anonymity: peer, superior and self results appear only as aggregates; a person with "
        "fewer than {k} raters enters no number at all; a group of fewer than {k} is hidden "
        "together with the group from which it could be worked out; peer comments never "
        "appear in this report.",
    ),
    "report.sec.levels": ("群众评价等级分布（按单位）", "Public rating levels by unit"),
    "report.sec.scores": (
        "清洗后得分分布（按单位与岗位类别）",
        "Cleaned scores by unit and post category",
    ),
    "report.sec.windows": (
        "窗口与人员排名（群众满意度）",
        "Windows and staff by public satisfaction",
    ),
    "report.sec.trends": ("与上期比较", "Compared with the previous campaign"),
    "report.sec.last": ("连续两期排名末位的窗口", "Windows in the last places twice running"),
    "report.sec.quality": (
        "数据质量：清洗剔除了什么、为什么",
        "Data quality: what cleaning removed and why",
    ),
    "report.sec.cases": ("差评热点与整改时效", "Bad-review hotspots and follow-up timeliness"),
    "report.sec.reasons": (
        "差评原因与评语关键词（按单位）",
        "Bad-review reasons and comment keywords by unit",
    ),
    "report.levels_help": (
        "清洗后采用的群众评价份数；满意率为“满意”与“非常满意”的加权占比，"
        "得分按 5→100、1→0 线性折算。平台默认好评不计入。",
        "Public ratings used after cleaning; satisfaction is the weighted share of "
        "'satisfied' and 'very satisfied', scores map 5→100 and 1→0 linearly. Platform "
        "default ratings never count.",
    ),
    "report.scores_help": (
        "每格为该组人员清洗后得分（0–100）的平均值，n 为人数。"
        "只计入可公布的结果（评价人不少于 {k} 人）；少于 {k} 人的分组及其互补分组已隐藏。",
        "Each cell is the mean cleaned score (0–100) of the people in the group; n is how "
        "many. Only reportable results count (at least {k} raters); groups under {k} and "
        "their complementary groups are hidden.",
    ),
    "report.unit": ("单位", "Unit"),
    "report.window": ("窗口", "Window"),
    "report.all_units": ("全部单位", "All units"),
    "report.all_categories": ("全部岗位", "All posts"),
    "report.n_used": ("采用份数", "Used"),
    "report.satisfaction": ("满意率", "Satisfaction"),
    "report.mean_100": ("平均得分", "Mean score"),
    "report.score_100": ("得分", "Score"),
    "report.suppressed": ("样本不足，已隐藏", "Too few ratings; hidden"),
    "report.hidden_short": ("隐藏", "hidden"),
    "report.below_k": (
        "另有 {n} 人的此项结果未达到公布条件（评价不足 {k}），未计入任何数字。",
        "{n} more people have too few ratings here (under {k}); they enter no number.",
    ),
    "report.none": ("无", "None"),
    "report.chart.levels": ("群众评价等级构成", "Public rating levels"),
    "report.chart.satisfaction": ("各单位群众满意率（%）", "Public satisfaction by unit (%)"),
    "report.chart.histogram": ("{role}得分分布（各分数段人数）", "{role} scores (people per band)"),
    "report.chart.trend": ("满意率较上期变化（百分点）", "Change in satisfaction (points)"),
    "report.chart.flags": ("各原因处理条数", "Decisions by reason"),
    "report.chart.cases": ("各单位差评工单数", "Bad-review cases by unit"),
    "report.chart.reasons": ("差评原因", "Bad-review reasons"),
    "report.windows_help": (
        "参与排名的窗口 {ranked} 个；另有 {unranked} 个窗口评价不足 {k} 份或与之互补，未排名。"
        "按满意率排序，满意率相同按平均得分。",
        "{ranked} windows ranked; {unranked} more had fewer than {k} ratings (or complement "
        "such a window) and are not ranked. Ordered by satisfaction, then mean score.",
    ),
    "report.top_windows": ("满意度最高的窗口", "Best windows"),
    "report.bottom_windows": ("满意度最低的窗口", "Worst windows"),
    "report.staff_public": ("人员群众评价", "Staff by public rating"),
    "report.staff_help": (
        "仅列出群众评价（采用不少于 {k} 份）；同事、上级与自评结果不按个人列出。",
        "Public ratings only (at least {k} used); peer, superior and self results are never "
        "listed per person.",
    ),
    "report.top_staff": ("群众评价最高", "Highest public rating"),
    "report.bottom_staff": ("群众评价最低", "Lowest public rating"),
    "report.staff_code": ("工号", "Code"),
    "report.staff_name": ("姓名", "Name"),
    "report.no_previous": (
        "同一系列中没有更早的评议活动，无法比较。",
        "No earlier campaign in the same series; nothing to compare with.",
    ),
    "report.previous_not_published": (
        "上期评议活动 {code} 尚未发布结果，不作比较。",
        "The previous campaign {code} has not been published; nothing to compare with.",
    ),
    "report.previous": (
        "上期：{name}（{code}，{start} — {end}），取其最新发布的版本（第 {revision} 版）。",
        "Previous: {name} ({code}, {start} — {end}), its latest published revision ({revision}).",
    ),
    "report.composition_changed": (
        "组成有变化，不作比较",
        "composition changed, not compared",
    ),
    "report.composition_help": (
        "只有两期中构成该单位数字的人员（及窗口）完全相同时才作比较；人员调入、调出或"
        "新增时显示“组成有变化，不作比较”，以免通过两期相减推算出个人结果。",
        "A unit is compared only when exactly the same staff (and windows) make up its "
        "figures in both campaigns; when someone moved, joined or left it reads "
        "'composition changed, not compared', so that no one's result can be worked out "
        "by subtracting the two.",
    ),
    "report.before": ("上期", "Before"),
    "report.now": ("本期", "Now"),
    "report.points": ("百分点", "points"),
    "report.trends_help": (
        "各角色得分为该单位可公布人员得分的平均值；任何一期被隐藏的分组不作比较。",
        "Role scores are the mean of the unit's reportable people; a group hidden in either "
        "campaign is not compared.",
    ),
    "report.last_help": (
        "末位指按群众满意率排名的最后 {share}%（至少一个）；本期与上期都处于末位的窗口列于下表。",
        "The last places are the worst {share}% of ranked windows by public satisfaction (at "
        "least one); windows there in this campaign and the previous one are listed.",
    ),
    "report.last_unknown": (
        "没有已发布的上期结果，无法判断。",
        "No published previous campaign; cannot tell.",
    ),
    "report.rank_now": ("本期名次", "Rank now"),
    "report.rank_before": ("上期名次", "Rank before"),
    "report.quality_summary": (
        "共 {answers} 个作答、{responses} 份问卷；{flagged} 份问卷有处理决定，"
        "其中整份不计 {excluded} 份、降低权重 {downweighted} 份；"
        "{overridden} 条决定经人工复核撤销；疑似人情分团体 {groups} 个。",
        "{answers} answers in {responses} questionnaires; {flagged} questionnaires have a "
        "decision: {excluded} not counted at all, {downweighted} down-weighted; "
        "{overridden} decisions were voided on review; {groups} suspected collusion groups.",
    ),
    "report.default_channel": (
        "另有 {n} 条平台默认好评，未计入任何统计。",
        "{n} platform default ratings were not counted anywhere.",
    ),
    "report.reason": ("原因", "Reason"),
    "report.decisions": ("决定数", "Decisions"),
    "report.responses": ("涉及问卷", "Questionnaires"),
    "report.raters": ("涉及评价人", "Raters"),
    "report.actions": ("处理方式", "Action"),
    "report.overridden": ("已撤销", "Voided"),
    "report.meaning": ("含义", "Meaning"),
    "report.action.exclude": ("不计", "excluded"),
    "report.action.downweight": ("降权", "down-weighted"),
    "report.action.adjust": ("校正", "adjusted"),
    "report.quality_help": (
        "单纯的差评是合法意见，不会因分低而被剔除。评价人代码与具体对象不在本报告中出现。",
        "A low rating is a legitimate opinion and is never removed for being low. Rater "
        "codes and the people concerned do not appear in this report.",
    ),
    "report.cases_summary": (
        "差评工单 {total} 件：已办结 {closed} 件，未办结 {open} 件，其中超期 {overdue} 件。",
        "{total} bad-review cases: {closed} closed, {open} open, {overdue} of them overdue.",
    ),
    "report.cases": ("工单", "Cases"),
    "report.per_100": ("每百份评价", "Per 100 ratings"),
    "report.open": ("未办结", "Open"),
    "report.overdue": ("超期", "Overdue"),
    "report.contact_on_time": ("按时联系率", "Contacted on time"),
    "report.close_on_time": ("按时办结率", "Closed on time"),
    "report.median_contact": ("联系用时中位数（小时）", "Median hours to contact"),
    "report.median_close": ("办结用时中位数（天）", "Median days to close"),
    "report.cases_help": (
        "按时率只计已完成或已过期限的工单；期限按工作日计算。",
        "On-time rates count only cases that are done or past their deadline; deadlines "
        "are in working days.",
    ),
    "report.hotspots": ("差评热点窗口", "Bad-review hotspots"),
    "report.other_units": ("其他单位（合并）", "Other units (combined)"),
    "report.cases_folded": ("数量过少或样本不足，已并入其他", "Too few; combined with others"),
    "report.folded_reasons": ("其他原因（合并）", "Other reasons (combined)"),
    "report.cases_k": (
        "单位、窗口或原因的工单少于 {k} 件，或其群众评价被隐藏时，不单独列出，并入“其他”。",
        "A unit, window or reason with fewer than {k} cases, or whose public results are "
        "hidden, is not listed on its own but combined with others.",
    ),
    "report.keywords_k": (
        "每份评价无论写了几处只计一次；关键词至少出现在 {k} 份评价中才列出，评语少于 {k} "
        "份的单位不列关键词；工作人员姓名、工号与窗口号在统计前已删除。",
        "Each rating counts once however many texts it has; a keyword shows only when at "
        "least {k} ratings use it, and a unit with fewer than {k} commenting ratings "
        "shows none; staff names, codes and window numbers are removed first.",
    ),
    "report.reasons_help": (
        "原因取自群众选择的不满意原因；关键词由群众评语与差评说明经结巴（jieba）中文分词、"
        "去除停用词后统计，数字为提到该词的评价份数；清洗中不计的评价不参与统计。"
        "同事评语不参与统计。",
        "Reasons are those citizens chose; keywords come from public comments and "
        "bad-review notes, segmented with jieba with stop words removed; the number is how "
        "many ratings mention the word; ratings the cleaning left out are not used. Peer "
        "comments are never used.",
    ),
    "report.top_reasons": ("主要原因", "Main reasons"),
    "report.comments": ("评语数", "Comments"),
    "report.keywords": ("高频关键词", "Frequent keywords"),
    "report.method": ("方法说明", "Method"),
    "report.method.scores": (
        "得分来自数据清洗后的加权结果：异常作答被剔除或降权，评价人宽严偏差已校正。",
        "Scores are the weighted results after cleaning: anomalous responses are removed "
        "or down-weighted, raters' leniency or severity is corrected.",
    ),
    "report.method.k": (
        "k = {k}：评价人少于 k 人的结果不公布；任何分组少于 k 人时隐藏，并同时隐藏最小的互补分组，"
        "以免通过相减推算。",
        "k = {k}: results from fewer than k raters are not published; any group under k is "
        "hidden together with its smallest complementary group so that it cannot be worked "
        "out by subtraction.",
    ),
    "report.method.comments": (
        "报告只统计群众评语的关键词，不引用原文，不使用同事、上级、自评评语。",
        "Only keywords of public comments are counted; no comment is quoted, and peer, "
        "superior and self comments are never used.",
    ),
    "report.method.recommend": (
        "本报告供分析改进之用；等次评定以人事部门确认的结果为准。",
        "This report is for analysis and improvement; grades are those HR confirms.",
    ),
}
