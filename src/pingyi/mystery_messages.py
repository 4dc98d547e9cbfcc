"""Texts of mystery shopping (暗访): the console, the visit form, its script's messages,
the indicators and the campaign report's section. (zh-CN, en), as in pingyi.i18n."""

from __future__ import annotations

MYSTERY_MESSAGES: dict[str, tuple[str, str]] = {
    "nav.mystery": ("暗访", "Mystery shopping"),
    "mystery.title": ("暗访", "Mystery shopping"),
    "mystery.help_agency": (
        "评价机构编制暗访检查表，按窗口和周安排暗访，指派给访员；访员在手机上逐项填写，"
        "断网时答案保存在手机里，联网后自动提交。每次暗访按检查项权重计 0-100 分，"
        "窗口和单位的得分是其各次暗访的平均分。",
        "The agency writes checklists, plans visits per window and week and assigns them "
        "to evaluators; evaluators fill in each visit on a phone, which keeps the answers "
        "while offline and sends them when the connection is back. A visit scores 0-100 "
        "by its items' weights; a window's and a unit's score is the mean of their visits.",
    ),
    "mystery.help_evaluator": (
        "以下是分配给您的暗访。到窗口办事后打开对应的暗访逐项填写；没有信号也可以提交，"
        "答案会保存在本机，联网后自动发送。",
        "These are the visits assigned to you. After the visit, open it and answer each "
        "item; you can submit without a signal: the answers stay on this phone and are "
        "sent when it is back online.",
    ),
    "mystery.campaign": ("评议活动", "Campaign"),
    "mystery.scores": ("暗访得分", "Mystery-shopping scores"),
    "mystery.scores_help": (
        "得分为各次暗访得分（0-100）的平均值，次数为已提交的暗访次数。",
        "A score is the mean of the visits' scores (0-100); visits counts the visits entered.",
    ),
    "mystery.unit_window": ("单位 / 窗口", "Unit / window"),
    "mystery.score": ("得分", "Score"),
    "mystery.visits_n": ("暗访次数", "Visits"),
    "mystery.items": ("各检查项得分率", "Share of marks per item"),
    "mystery.items_n": ("项", "items"),
    "mystery.item": ("检查项", "Item"),
    "mystery.answer": ("记录", "Answer"),
    "mystery.marks": ("得分率", "Marks"),
    "mystery.weight": ("权重", "weight"),
    "mystery.visits": ("暗访安排", "Planned visits"),
    "mystery.my_visits": ("我的暗访", "My visits"),
    "mystery.week": ("周", "Week"),
    "mystery.evaluator": ("访员", "Evaluator"),
    "mystery.state": ("状态", "State"),
    "mystery.state.planned": ("待暗访", "to visit"),
    "mystery.state.done": ("已提交", "entered"),
    "mystery.no_visits": ("暂无暗访安排。", "No visits planned."),
    "mystery.plan": ("安排暗访", "Plan visits"),
    "mystery.plan_help": (
        "勾选窗口，选择周次、每个窗口的暗访次数和访员（访员账号）。",
        "Tick the windows, choose the week, the visits per window and the evaluator "
        "(an interviewer login).",
    ),
    "mystery.checklist": ("检查表", "Checklist"),
    "mystery.windows": ("窗口", "Windows"),
    "mystery.visits_per_window": ("每个窗口暗访次数", "Visits per window"),
    "mystery.checklists": ("暗访检查表", "Checklists"),
    "mystery.no_checklists": ("尚无检查表。", "No checklist yet."),
    "mystery.new_checklist": ("新建检查表", "New checklist"),
    "mystery.code": ("编码", "Code"),
    "mystery.name": ("名称", "Name"),
    "mystery.name_en": ("英文名称", "English name"),
    "mystery.items_text": ("检查项", "Items"),
    "mystery.items_text_help": (
        "每行一项：编码 | 类型 | 权重 | 中文 | English | 评分。类型 yesno（是/否，是得满分）、"
        "points（评分 = 最高分，如 5）或 minutes（评分 = 达标-上限分钟，如 10-30：10 分钟内满分，"
        "30 分钟及以上不得分，其间按比例）。检查表一经创建不再修改，修改请新建。",
        "One item a line: code | kind | weight | Chinese | English | marks. Kinds: yesno "
        "(yes earns the marks), points (marks = the highest mark, e.g. 5) or minutes "
        "(marks = target-limit minutes, e.g. 10-30: full marks up to 10 minutes, none from "
        "30, in proportion between). A checklist is not edited once created: write a new one.",
    ),
    "mystery.create": ("创建检查表", "Create the checklist"),
    "mystery.kind.yesno": ("是/否", "yes/no"),
    "mystery.kind.points": ("评分 0-{max}", "marks 0-{max}"),
    "mystery.kind.minutes": (
        "分钟：≤{target} 满分，≥{limit} 零分",
        "minutes: ≤{target} full, ≥{limit} none",
    ),
    "mystery.line": ("第 {line} 行", "line {line}"),
    "mystery.visit": ("暗访记录", "Mystery visit"),
    "mystery.visit_help": (
        "请在离开窗口后尽快填写。没有信号时也可以提交：答案保存在本机，联网后自动发送，"
        "重复提交只记录一次。",
        "Fill this in soon after the visit. You can submit without a signal: the answers "
        "stay on this phone and are sent once it is online; sending twice records it once.",
    ),
    "mystery.visited_on": ("暗访日期", "Date of the visit"),
    "mystery.yes": ("是", "Yes"),
    "mystery.no": ("否", "No"),
    "mystery.points_help": ("打分（0-{max}）", "Marks (0-{max})"),
    "mystery.minutes_help": (
        "分钟数（{target} 分钟内满分，{limit} 分钟及以上不得分）",
        "Minutes (full marks up to {target}, none from {limit})",
    ),
    "mystery.note": ("说明", "Notes"),
    "mystery.submit": ("提交暗访记录", "Submit the visit"),
    "mystery.not_entered": ("该暗访尚未提交。", "This visit has not been entered yet."),
    "mystery.js.draft": (
        "已在本机保存草稿。",
        "Draft kept on this phone.",
    ),
    "mystery.js.waiting": (
        "暂时无法连接：答案已保存在本机，联网后自动提交。",
        "No connection: the answers are kept on this phone and sent once it is online.",
    ),
    "mystery.js.sending": ("正在提交……", "Sending…"),
    "mystery.js.sent": ("已提交，谢谢。", "Sent. Thank you."),
    "mystery.js.conflict": (
        "该暗访已由另一份记录提交，本机的答案未再提交。",
        "This visit was already entered from another form; these answers were not sent.",
    ),
    "mystery.js.invalid": ("请检查标出的项目。", "Please check the marked items."),
    "mystery.js.login": (
        "登录已过期：答案已保存在本机，请重新登录后再打开本页，将自动提交。",
        "Your sign-in has expired: the answers are kept on this phone. Sign in again and "
        "reopen this page to send them.",
    ),
    "mystery.error.form": ("请检查填写内容。", "Please check the form."),
    "mystery.error.required": ("请填写此项。", "Please answer this item."),
    "mystery.error.number": ("请填写数字。", "Please enter a number."),
    "mystery.error.yesno": ("请选择是或否。", "Choose yes or no."),
    "mystery.error.points": ("请填写 0 到 {max} 的整数。", "Enter a whole number from 0 to {max}."),
    "mystery.error.minutes": ("分钟数应为 0 到 1440。", "Minutes: 0 to 1440."),
    "mystery.error.visited_on": (
        "请填写暗访日期（不晚于今天）。",
        "Enter the date of the visit (not after today).",
    ),
    "mystery.error.note": ("说明最多 2000 字。", "Notes: at most 2000 characters."),
    "mystery.error.no_visit": ("没有这次暗访。", "No such visit."),
    "mystery.error.not_yours": ("这次暗访没有分配给您。", "This visit is not assigned to you."),
    "mystery.error.done": (
        "这次暗访已由另一份记录提交。",
        "This visit has already been entered from another form.",
    ),
    "mystery.error.campaign": ("没有这个评议活动。", "No such campaign."),
    "mystery.error.campaign_state": (
        "该评议活动当前不接受暗访安排或记录。",
        "This campaign takes no visits or entries in its current state.",
    ),
    "mystery.error.week": (
        "所选周不在评议期间内。",
        "The week is outside the campaign's period.",
    ),
    "mystery.error.checklist": ("请选择检查表。", "Choose a checklist."),
    "mystery.error.evaluator": ("请选择一名访员。", "Choose an evaluator (interviewer)."),
    "mystery.error.windows": (
        "请至少勾选一个本活动的窗口。",
        "Tick at least one window of this campaign.",
    ),
    "mystery.error.visits": (
        "每个窗口暗访次数至少 1 次，一次最多安排 500 次。",
        "At least 1 visit per window, at most 500 in one plan.",
    ),
    "mystery.error.code": (
        "编码只能使用字母、数字、- 和 _。",
        "A code uses letters, digits, - and _ only.",
    ),
    "mystery.error.code_taken": ("该编码已被使用。", "This code is taken."),
    "mystery.error.name": ("请填写名称（最多 200 字）。", "Enter a name (at most 200 characters)."),
    "mystery.error.item_line": (
        "检查项格式不对：编码 | 类型 | 权重 | 中文 | English | 评分。",
        "An item line reads: code | kind | weight | Chinese | English | marks.",
    ),
    "mystery.error.item_kind": (
        "类型应为 yesno、points 或 minutes。",
        "The kind is yesno, points or minutes.",
    ),
    "mystery.error.item_weight": ("权重应为 0 到 100。", "The weight is from 0 to 100."),
    "mystery.error.item_text": (
        "请填写中文（最多 300 字）。",
        "The Chinese text is required (at most 300 characters).",
    ),
    "mystery.error.item_marks": (
        "评分不对：points 填最高分（1-100），minutes 填“达标-上限”（如 10-30），yesno 留空。",
        "Marks: the highest mark for points (1-100), target-limit for minutes (e.g. "
        "10-30), empty for yesno.",
    ),
    "mystery.error.no_items": ("请至少填写一项。", "Enter at least one item."),
    "mystery.error.too_many_items": ("检查项最多 40 项。", "At most 40 items."),
    "mystery.error.item_codes": ("检查项编码不能重复。", "Item codes must be unique."),
    "mystery.error.no_weight": (
        "至少一项的权重应大于 0。",
        "At least one item needs a weight above 0.",
    ),
    # indicators
    "ind.mystery_score": ("暗访得分", "Mystery-shopping score"),
    "ind.def.mystery_score": (
        "已提交暗访的平均得分（0-100，按检查项权重计分），括号内为暗访次数；不做统计清洗。",
        "The mean score of the visits entered (0-100, weighted by the checklist's items), "
        "with the number of visits; not statistically cleaned.",
    ),
    "ind.col.mystery_visits": ("暗访次数", "mystery_visits"),
    "ind.col.mystery_points": ("暗访得分合计", "mystery_points_sum"),
    "ind.col.mystery_score": ("暗访得分", "mystery_score"),
    # the campaign report
    "report.sec.mystery": ("暗访", "Mystery shopping"),
    "report.mystery_summary": (
        "评价机构访员以普通办事群众身份暗访 {n} 次，按检查表逐项记录（首问负责、一次性告知、"
        "服务用语、着装规范、等候时间等），每次按权重计 0-100 分。",
        "The agency's evaluators made {n} unannounced visits as ordinary citizens and "
        "recorded a checklist each time (first-contact responsibility, telling everything "
        "at once, service language, dress code, waiting time ...), scored 0-100 by weight.",
    ),
    "report.mystery_score": ("暗访得分", "Visit score"),
    "report.mystery_n": ("暗访次数", "Visits"),
    "report.mystery_items": ("各检查项得分率（全部暗访）", "Share of marks per item (all visits)"),
    "report.mystery_help": (
        "暗访次数少于 {k} 次的窗口或单位不单独显示，必要时连同另一组一并隐藏，以免由合计推算。",
        "A window or unit with fewer than {k} visits is not shown on its own, and where "
        "needed another group is hidden with it, so that it cannot be worked out from "
        "the totals.",
    ),
}
