"""User-facing text in Chinese (the default) and English.

A missing English text falls back to Chinese, never to a key: users must always
read a sentence.
"""

from __future__ import annotations

from typing import Any

from pingyi.mystery_messages import MYSTERY_MESSAGES
from pingyi.report_messages import REPORT_MESSAGES
from pingyi.settings import LANGUAGES

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "app.name": ("评议", "pingyi"),
    "app.tagline": ("政务服务评价", "Public service evaluation"),
    "lang.switch": ("English", "中文"),
    "login.title": ("登录", "Sign in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误。", "Wrong username or password."),
    "login.limited": (
        "尝试次数过多，请在 {seconds} 秒后再试。",
        "Too many attempts. Please try again in {seconds} seconds.",
    ),
    "logout": ("退出", "Sign out"),
    "error.forbidden": ("您没有权限访问此页面。", "You are not allowed to open this page."),
    "error.not_found": (
        "页面不存在或链接已失效。",
        "This page does not exist or the link is no longer valid.",
    ),
    "error.csrf": (
        "表单已过期或来源不明，请返回刷新后重试。",
        "The form has expired or did not come from this site. Go back, reload and try again.",
    ),
    "error.bad_request": ("请求内容有误：{detail}", "The request is not valid: {detail}"),
    "error.server": (
        "服务暂时不可用，您提交的内容未受影响，请稍后重试。",
        "The service is briefly unavailable. Please try again in a moment.",
    ),
    "error.rate_limited": (
        "提交过于频繁，请 {seconds} 秒后再试。您的评价尚未保存。",
        "Too many submissions. Please try again in {seconds} seconds; "
        "your rating has not been saved yet.",
    ),
    "error.too_large": (
        "提交的内容过大（此处最多 {kib} KB），未予保存。",
        "Too much was sent (at most {kib} KB here); nothing was saved.",
    ),
    "error.too_many_fields": (
        "提交的字段过多（此处最多 {n} 项），未予保存。",
        "Too many fields were sent (at most {n} here); nothing was saved.",
    ),
    "error.too_deep": (
        "提交的数据嵌套层级过深，未予保存。",
        "The data sent is nested too deeply; nothing was saved.",
    ),
    "error.control_characters": (
        "输入中含有不可见的控制字符（例如 NUL），请删除后重新提交。未予保存。",
        "The input contains invisible control characters (such as NUL). "
        "Remove them and send it again; nothing was saved.",
    ),
    "home.title": ("工作台", "Dashboard"),
    "nav.campaigns": ("评议活动", "Campaigns"),
    "nav.org": ("组织机构", "Organisation"),
    "nav.questionnaires": ("问卷", "Questionnaires"),
    "nav.audit": ("审计日志", "Audit log"),
    "nav.outbox": ("上报省平台", "Provincial platform"),
    "outbox.title": ("上报省好差评平台", "Outbox to the provincial rating platform"),
    "outbox.help": (
        "群众评价及其差评处理进展在保存的同一事务中写入发件箱，再分批签名发送到省平台。"
        "只上报平台需要的内容：不含回访联系方式、设备指纹，也从不上报同事、上级或自评。",
        "Citizens' ratings and the progress of their bad-review cases are queued in the "
        "transaction that stores them, then sent to the provincial platform in signed "
        "batches. Only what the platform needs leaves: no call-back contacts, no "
        "fingerprints, never a peer, superior or self rating.",
    ),
    "outbox.off": (
        "未配置省平台地址（PINGYI_OUTBOX_URL）：不记录、不发送。",
        "No platform address is configured (PINGYI_OUTBOX_URL): nothing is queued or sent.",
    ),
    "outbox.endpoint": ("接收地址", "Endpoint"),
    "outbox.key_id": ("密钥编号", "Key id"),
    "outbox.cron": (
        "本服务不在后台发送：请用 cron 运行 pingyi sync run",
        "not sent by the server: run pingyi sync run from cron",
    ),
    "outbox.pending": ("待发送", "Waiting to be sent"),
    "outbox.lag": ("滞后（最早未送达记录的时长）", "Lag (age of the oldest undelivered record)"),
    "outbox.minutes": ("分钟", "minutes"),
    "outbox.dead": ("多次失败已搁置", "Dead-lettered after repeated failures"),
    "outbox.batches": ("批", "batches"),
    "outbox.sent": ("已送达", "Delivered"),
    "outbox.last_sent": ("最近送达", "Last delivery"),
    "outbox.last_error": ("最近错误", "Last error"),
    "outbox.attempts": ("尝试次数", "attempts"),
    "outbox.state.pending": ("等待重试", "waiting to retry"),
    "outbox.state.dead": ("已搁置", "dead-lettered"),
    "outbox.state.sent": ("已送达", "delivered"),
    "outbox.retry": ("立即重试", "Retry now"),
    "outbox.retry_help": (
        "把已搁置的批次重新排队，并让等待中的批次立即重试（记入审计日志）。",
        "Requeues dead-lettered batches and makes waiting batches due at once "
        "(recorded in the audit log).",
    ),
    "outbox.retried": ("已重新排队。", "Requeued."),
    "nav.cases": ("差评处置", "Bad reviews"),
    "nav.interview": ("访谈录入", "Interviews"),
    "nav.scores": ("评分结果", "Scores"),
    "nav.me": ("我的结果", "My results"),
    "state.draft": ("草稿", "draft"),
    "state.open": ("进行中", "open"),
    "state.closed": ("已结束", "closed"),
    "state.cleaned": ("已清洗", "cleaned"),
    "state.published": ("已发布", "published"),
    "move.open": ("开始评议", "Open"),
    "move.closed": ("结束评议", "Close"),
    "move.clean": ("运行数据清洗", "Run cleaning"),
    "move.published": ("发布结果", "Publish"),
    "campaign.new": ("新建评议活动", "New campaign"),
    "campaign.code": ("编号", "Code"),
    "campaign.name": ("名称", "Name"),
    "campaign.period": ("期间", "Period"),
    "campaign.state": ("状态", "State"),
    "campaign.actions": ("操作", "Actions"),
    "campaign.flags": ("数据质量标记", "Data-quality flags"),
    "campaign.codes": ("窗口二维码", "Window QR codes"),
    "campaign.sheets": ("下载全部打印张贴页（PDF）", "Download all printable sheets (PDF)"),
    "campaign.invitations": ("评议链接", "Rating links"),
    "campaign.invitations_help": (
        "链接只以摘要形式保存，每次导出都会生成新链接，此人此前未使用的链接随即失效。",
        "Links are stored only as hashes: each export issues new links and the person's "
        "earlier unused link stops working.",
    ),
    "campaign.scope_unused": ("仅未完成者（催办）", "Only those who have not responded (reminder)"),
    "campaign.scope_all": ("全部人员", "Everyone"),
    "campaign.slips": ("打印二维码条（PDF）", "Printable slips with QR (PDF)"),
    "campaign.monitor": ("进度监控", "Monitoring"),
    "campaign.public_total": ("群众评价数", "Public ratings"),
    "campaign.cases": ("差评工单（未结/全部）", "Bad-review cases (open/all)"),
    "campaign.overdue": ("超期", "Overdue"),
    "campaign.flagged_share": ("被标记的评价占比", "Share of flagged responses"),
    "campaign.unit": ("单位", "Unit"),
    "campaign.role": ("角色", "Role"),
    "campaign.response_rates": ("评议参与率（仅计数）", "Response rates (counts only)"),
    "campaign.assigned": ("应评", "Assigned"),
    "campaign.submitted": ("已评", "Submitted"),
    "org.import": ("导入组织机构", "Import the organisation"),
    "org.template": (
        "下载模板（CSV，可用 Excel 打开）",
        "Download the template (CSV, opens in Excel)",
    ),
    "org.file": ("CSV 或 XLSX 文件", "CSV or XLSX file"),
    "org.import_button": ("检查并导入", "Check and import"),
    "org.import_failed": (
        "文件有误，未导入任何数据。请修改以下各行后重新上传：",
        "The file has problems; nothing was imported. Fix these rows and upload again:",
    ),
    "org.import_done": (
        "已导入：单位 {units} 个，窗口 {windows} 个，人员 {staff} 名。",
        "Imported {units} units, {windows} windows and {staff} staff.",
    ),
    "org.row": ("行号", "Row"),
    "org.problem": ("问题", "Problem"),
    "org.units": ("单位", "Units"),
    "org.windows": ("窗口", "Windows"),
    "org.staff": ("人员", "Staff"),
    "org.hours": ("办公时间", "Opening hours"),
    "org.category": ("岗位类别", "Post category"),
    "org.leader": ("负责人", "Leader"),
    "org.active": ("在岗", "Active"),
    "post.law_enforcement": ("执法类", "Law enforcement"),
    "post.window_service": ("窗口服务类", "Window service"),
    "post.management": ("综合管理类", "Management"),
    "save": ("保存", "Save"),
    "filter": ("筛选", "Filter"),
    "audit.intact": (
        "哈希链完整：{n} 条记录均未被改动。",
        "Hash chain intact: {n} events unchanged.",
    ),
    "audit.broken": (
        "哈希链在第 {seq} 条断裂：{problem}",
        "Hash chain broken at event {seq}: {problem}",
    ),
    "audit.when": ("时间", "When"),
    "audit.actor": ("操作人", "Who"),
    "audit.action": ("操作", "What"),
    "audit.target": ("对象", "Target"),
    "audit.before": ("修改前", "Before"),
    "audit.after": ("修改后", "After"),
    "case.open": ("未结", "Open"),
    "case.closed": ("已结", "Closed"),
    "case.total": ("全部", "All"),
    "case.opened": ("受理时间", "Opened"),
    "case.contact_due": ("联系时限", "Contact by"),
    "case.rectify_due": ("整改时限", "Rectify by"),
    "case.contact": ("回访联系方式", "Call-back contact"),
    "case.show_contact": ("查看联系方式", "Show the contact"),
    "case.audited": ("每次查看都会记入审计日志", "Every view is recorded in the audit log"),
    "case.contact_hidden": (
        "群众留有联系方式，仅指定的回访角色可见。",
        "The citizen left a contact, visible only to the call-back role.",
    ),
    "case.mark_contacted": ("已首次联系", "Mark as contacted"),
    "case.close": ("核实整改完毕，结案", "Close the case"),
    "case.verification": ("核实结论", "Verification"),
    "case.explanation": ("核实说明", "Explanation"),
    "case.rectification": ("整改措施", "Rectification"),
    "case.feedback": ("反馈情况", "Feedback given"),
    "case.callback": ("回访结果", "Call-back result"),
    "case.handling": ("群众对处理的评价", "Citizen's rating of the handling"),
    "verify.justified": ("属实", "Justified"),
    "verify.unjustified": ("不属实", "Unjustified"),
    "verify.no_legal_basis": ("诉求无法律依据", "No legal basis"),
    "verify.": ("—", "—"),
    "handling.3": ("满意", "Satisfied"),
    "handling.2": ("基本满意", "Fairly satisfied"),
    "handling.1": ("不满意", "Dissatisfied"),
    "interview.help": (
        "为街头或电话访谈的群众代为录入评价；录入记录会标明访谈员。",
        "Enter a street or phone interview on a citizen's behalf; the entry "
        "records the interviewer.",
    ),
    "interview.channel": ("方式", "Method"),
    "interview.street": ("访谈（街头/电话）", "Interview (street/phone)"),
    "interview.paper": ("纸质问卷", "Paper questionnaire"),
    "interview.saved": ("已保存。可以录入下一份。", "Saved. You can enter the next one."),
    "q.code": ("题目编码", "Code"),
    "q.text_zh": ("题目（中文）", "Text (Chinese)"),
    "q.text_en": ("题目（英文）", "Text (English)"),
    "q.kind": ("题型", "Type"),
    "q.required": ("必答", "Required"),
    "q.dimension": ("维度", "Dimension"),
    "q.choices": ("选项（用 | 分隔）", "Choices (separated by |)"),
    "q.version": ("版本", "Version"),
    "q.weight": ("计分权重", "Weight"),
    "q.on_device": ("评价器也问", "Device asks"),
    "q.weights_help": (
        "每份评价的得分是各五级题按权重的加权平均（默认都为 1，0 表示不计分，最大 100）；"
        "群众问卷若没有 overall 题，总体满意度按权重 1 计。窗口评价器只问总体满意度和勾选"
        "“评价器也问”的题目；扫码、链接和访谈问全部题目。",
        "A response scores the weighted mean of its five-level items (weights default to 1; "
        "0 leaves an item out; at most 100); a public questionnaire without an overall item "
        "counts overall satisfaction with weight 1. Window devices ask overall satisfaction "
        'and the items marked "device asks" only; the QR page, links and interviews ask '
        "every item.",
    ),
    "q.overall_only": ("只按总体满意度计分", "Score on overall satisfaction only"),
    "q.scoring": ("计分与渠道", "Scoring and channels"),
    "q.overall_implicit": ("总体满意度（固定题）", "Overall satisfaction (always asked)"),
    "q.not_scored": ("不计分", "not scored"),
    "q.edit": ("编辑", "Edit"),
    "q.preview": ("预览", "Preview"),
    "q.new": ("新建问卷", "New questionnaire"),
    "q.help": (
        "群众问卷的总体满意度题（overall）固定显示在最前面，这里只需填写其他题目。",
        "The public overall-satisfaction question is always shown first; list the others.",
    ),
    "q.versioning": (
        "已有评价的问卷修改后会生成新版本，已提交的评价保留其原版本。",
        "Editing a questionnaire that has responses creates a new version; responses keep "
        "the version they answered.",
    ),
    "kind.scale5": ("五级满意度", "Five-level scale"),
    "kind.choice": ("单选", "Single choice"),
    "kind.yesno": ("是/否", "Yes/no"),
    "kind.text": ("文字", "Free text"),
    "role.public": ("群众", "Public"),
    "role.peer": ("同事", "Peer"),
    "role.superior": ("上级", "Superior"),
    "role.self": ("自评", "Self"),
    "campaign.series": ("系列（用于环比）", "Series (for trends)"),
    "campaign.start": ("开始日期", "Start"),
    "campaign.end": ("结束日期", "End"),
    "campaign.peer_sample": ("每人同事评价人数（0 为全部）", "Peer raters per person (0: all)"),
    "campaign.units": ("参评单位", "Units in scope"),
    "campaign.questionnaires_weights": ("各角色问卷与权重", "Questionnaire and weight per role"),
    "campaign.weight": ("权重", "Weight"),
    "campaign.revoke": ("停用某人的链接（工号）", "Revoke a person's link (staff code)"),
    "campaign.revoke_button": ("停用", "Revoke"),
    "campaign.assignments": ("评议关系（谁评谁）", "Who rates whom"),
    "assign.help": (
        "开始评议前可预览和调整；开始后固定不变。",
        "Preview and adjust before the campaign opens; they are fixed once it opens.",
    ),
    "assign.rater": ("评价人工号", "Rater code"),
    "assign.ratee": ("被评价人工号", "Ratee code"),
    "assign.add": ("添加", "Add"),
    "assign.remove": ("移除", "Remove"),
    "assign.build": ("按规则重新生成", "Rebuild from the rules"),
    "flags.none": ("尚未运行数据清洗。", "Cleaning has not run yet."),
    "effect.title": ("清洗的影响", "What cleaning did"),
    "effect.intro": (
        "清洗把得分从原始均分移动了多少（1–5 分制）；证据不足时得分保持原始均分。",
        "How far cleaning moved the scores from the raw means (1–5 scale); where the "
        "evidence is weak a score stays at its raw mean.",
    ),
    "effect.role": ("角色", "Role"),
    "effect.ratees": ("对象数", "Ratees"),
    "effect.moved": ("得分有变化", "Moved"),
    "effect.mean_shift": ("平均变化", "Mean shift"),
    "effect.mean_abs_shift": ("平均绝对变化", "Mean absolute shift"),
    "effect.largest": ("最大变化", "Largest shift"),
    "effect.unused": ("未采用问卷", "Responses not used"),
    "effect.fallbacks": (
        "{n} 个对象·角色组合若按清洗结果将少于 k 名评价人，保留了未清洗的原始均分。",
        "{n} ratee-role pairs would have been left under k raters by cleaning and keep "
        "their uncleaned mean.",
    ),
    "flags.revision": ("清洗版本", "Revision"),
    "flags.report": ("清洗报告", "Cleaning report"),
    "flags.all": ("全部", "All"),
    "flags.reason": ("原因", "Reason"),
    "flags.action": ("处理", "Action"),
    "flags.weight": ("权重", "Weight"),
    "flags.ratee": ("被评价对象", "Ratee"),
    "flags.rater": ("评价人（化名）", "Rater (pseudonym)"),
    "flags.detail": ("依据", "Evidence"),
    "flags.overridden": ("已人工撤销", "Overridden"),
    "flags.note": ("撤销理由", "Reason for override"),
    "flags.override": ("撤销此判定", "Override"),
    # citizen rating page
    "rate.title": ("服务评价", "Rate our service"),
    "rate.window": ("窗口", "Window"),
    "rate.staff": ("工作人员", "Staff"),
    "rate.overall": ("您对本次服务是否满意？", "How satisfied are you with this service?"),
    "level.5": ("非常满意", "Very satisfied"),
    "level.4": ("满意", "Satisfied"),
    "level.3": ("基本满意", "Fairly satisfied"),
    "level.2": ("不满意", "Dissatisfied"),
    "level.1": ("非常不满意", "Very dissatisfied"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "rate.optional": ("（选填）", "(optional)"),
    "rate.comment": ("意见或建议", "Comments or suggestions"),
    "rate.bad_intro": (
        "选择“不满意”或“非常不满意”时，请告诉我们原因：",
        "If you chose dissatisfied, please tell us why:",
    ),
    "rate.reason": ("原因", "Reason"),
    "reason.attitude": ("服务态度差", "Unfriendly attitude"),
    "reason.slow": ("办理效率低、等候时间长", "Slow service or long wait"),
    "reason.knowledge": ("业务不熟练、解释不清", "Staff unsure or unclear"),
    "reason.repeat_visits": ("材料要求不清，多次跑", "Unclear requirements, had to come again"),
    "reason.misconduct": ("违规收费或吃拿卡要", "Improper fees or favours asked"),
    "reason.facilities": ("环境设施不便", "Facilities inconvenient"),
    "reason.other": ("其他", "Other"),
    "rate.reason_text": ("具体情况", "What happened"),
    "rate.contact": (
        "如需回访，请留下电话（仅用于核实整改，不会公开）",
        "Phone number for a call-back (used only to follow up; never published)",
    ),
    "rate.submit": ("提交评价", "Submit"),
    "rate.anonymous": ("评价匿名，不记录您的身份。", "Your rating is anonymous."),
    "rate.error.summary": ("请检查标出的项目。", "Please check the marked questions."),
    "rate.error.overall": ("请选择一个满意程度。", "Please choose a level of satisfaction."),
    "rate.error.required": ("此项为必答。", "This question needs an answer."),
    "rate.error.level": ("请选择一个有效的选项。", "Please choose one of the options."),
    "rate.error.choice": ("请选择一个有效的选项。", "Please choose one of the options."),
    "rate.error.too_long": ("内容过长，请精简。", "This is too long; please shorten it."),
    "rate.error.reason": ("请选择不满意的原因。", "Please choose a reason."),
    "rate.error.expired_form": (
        "页面已过期，请再次提交。",
        "This page had expired; please submit again.",
    ),
    "peer.title": ("评议", "Colleague evaluation"),
    "peer.intro": (
        "{name}，您好！请对下列人员逐项评价。您的评价匿名保存：任何人（包括人事部门和被评价人）"
        "都看不到是谁给出的评价；不足 {k} 人评价的结果不予显示。",
        "Hello {name}. Please rate each person below. Your ratings are stored anonymously: "
        "nobody, HR and the person rated included, can see who gave them, and results from "
        "fewer than {k} raters are never shown.",
    ),
    "peer.role.self": ("自我评价", "Self-assessment"),
    "peer.role.superior": ("对下属的评价", "Your team members"),
    "peer.role.peer": ("同事互评", "Your colleagues"),
    "peer.comment": ("评语（选填）", "Comment (optional)"),
    "peer.submit_one": ("提交对此人的评价", "Submit for this person"),
    "peer.submit_all": ("全部提交", "Submit all"),
    "peer.save": ("暂存，稍后继续", "Save and continue later"),
    "peer.saved": (
        "已暂存。您可以稍后用同一链接继续。",
        "Saved. Use the same link to continue later.",
    ),
    "peer.stored": ("已提交 {n} 份评价，谢谢！", "{n} evaluations submitted. Thank you!"),
    "peer.done": ("已提交", "Submitted"),
    "peer.all_done": (
        "您已完成全部评价，谢谢！",
        "You have completed every evaluation. Thank you!",
    ),
    "peer.error.nothing": (
        "请先完成至少一人的评价。",
        "Please complete at least one person first.",
    ),
    "peer.error.form": ("页面已过期，请重新提交。", "The page had expired; please submit again."),
    "peer.unknown": (
        "链接无效，请核对链接或联系评估机构。",
        "This link is not valid. Please check it or contact the agency.",
    ),
    "peer.revoked": (
        "此链接已停用，请使用最新收到的链接。",
        "This link has been replaced. Please use the newest link you received.",
    ),
    "peer.closed": ("本次评议未开放或已结束。", "This evaluation is not open."),
    "thanks.title": ("感谢您的评价", "Thank you for your rating"),
    "thanks.body": ("您的评价已提交。", "Your rating has been received."),
    "thanks.followup": (
        "我们将在规定时间内核实处理，如您留有电话，工作人员会与您联系。",
        "We will look into it; if you left a phone number, we will call you back.",
    ),
    "pressure.question": (
        "有人要求或诱导您给出特定评价吗？",
        "Did anyone press you to give a particular rating?",
    ),
    "pressure.text": (
        "情况说明（选填，直接报送第三方评估机构）",
        "What happened (optional; goes straight to the independent agency)",
    ),
    "pressure.submit": ("报告", "Report"),
    "pressure.thanks": ("已收到，谢谢您的反馈。", "Received. Thank you."),
    "alerts.link": ("监测提醒", "Alerts"),
    "alerts.title": ("监测提醒", "Alerts"),
    "alerts.volume": ("评价量异常的窗口", "Windows with unusual rating volume"),
    "alerts.volume_help": (
        "窗口在时段内收到的群众评价超过阈值。评价均已保存、无人被拒绝；"
        "数据清洗会按“集中突发”（BURST）规则核查这些评价。",
        "A window received more citizen ratings in the period than its threshold. "
        "Every rating was stored and nobody was turned away; the cleaning checks them "
        "under the BURST rule.",
    ),
    "alerts.volume_none": ("暂无评价量异常。", "No unusual volume so far."),
    "alerts.when": ("开始时间", "Started"),
    "alerts.window": ("窗口", "Window"),
    "alerts.threshold": ("阈值", "Threshold"),
    "alerts.per_minutes": ("{minutes} 分钟 {n} 条", "{n} in {minutes} min"),
    "alerts.stored": ("前后时段内保存的评价", "Ratings stored around it"),
    "alerts.pressure": ("群众反映的诱导评价", "Reports of pressure to rate well"),
    "alerts.pressure_help": (
        "群众在评价后反映有人要求其给出特定评价。只记录日期，不记录时间。",
        "Citizens said after rating that someone asked them for a particular rating. "
        "Only the day is kept, never the time.",
    ),
    "alerts.pressure_none": ("暂无反映。", "No reports so far."),
    "alerts.day": ("日期", "Day"),
    "alerts.text": ("内容", "What they said"),
    "pressure.limited": (
        "此网络提交的报告过多，请稍后再试。",
        "Too many reports from this network. Please try again later.",
    ),
    "notice.closed": ("本次评价暂未开放或已结束。", "This evaluation is not open at the moment."),
    "notice.ticket_used": (
        "这次服务已经评价过了，谢谢！",
        "This service has already been rated. Thank you!",
    ),
    "notice.ticket_expired": (
        "评价链接已过期。感谢您的关注！",
        "This rating link has expired. Thank you for your interest!",
    ),
    # the scoring feed, its exports, the staff view and appeals
    "feed.staff_code": ("工号", "Staff code"),
    "feed.staff_name": ("姓名", "Name"),
    "feed.unit": ("单位", "Unit"),
    "feed.post_category": ("岗位类别", "Post category"),
    "feed.public_score": ("群众评价得分", "Public score"),
    "feed.peer_score": ("同事评价得分", "Peer score"),
    "feed.superior_score": ("上级评价得分", "Superior score"),
    "feed.self_score": ("自评得分", "Self score"),
    "feed.public_n": ("群众评价数", "Public n"),
    "feed.peer_n": ("同事评价人数", "Peer n"),
    "feed.superior_n": ("上级评价人数", "Superior n"),
    "feed.self_n": ("自评数", "Self n"),
    "feed.total": ("综合得分", "360 total"),
    "feed.weights_used": ("实际权重", "Weights used"),
    "feed.missing_roles": ("缺项说明", "Missing roles"),
    "feed.missing.none": ("无评价", "no ratings"),
    "feed.missing.under_k": (
        "评价人数不足，不予显示，权重已按比例分配给其他维度",
        "too few raters to show; its weight was shared among the other roles",
    ),
    "feed.satisfaction_rate": ("群众满意率", "Public satisfaction"),
    "feed.satisfaction_n": ("满意率样本数", "Satisfaction n"),
    "feed.insufficient": ("数据不足", "insufficient data"),
    "feed.rule_flags": ("规则提示", "Rule flags"),
    "feed.flag.satisfaction_below_min": (
        "群众满意率低于规定下限，按规定评为最低等次",
        "public satisfaction below the minimum: lowest grade by rule",
    ),
    "feed.recommended_grade": ("建议等次", "Recommended grade"),
    "feed.final_grade": ("最终等次", "Final grade"),
    "feed.final_approved_by": ("决定人", "Decided by"),
    "feed.grade_notes": ("等次说明", "Grade notes"),
    "feed.note.quota": ("超出本单位优秀名额，建议为下一等次", "over the unit's 优秀 quota"),
    "feed.note.quota_tie": (
        "与他人同分且超出优秀名额，需由决定人裁定",
        "tied with others over the 优秀 quota: a person decides",
    ),
    "feed.note.rule_satisfaction": ("满意率规则", "satisfaction rule"),
    "feed.note.no_total": ("评价维度不足，无法计算综合得分", "too few roles for a total"),
    "feed.warning_consecutive": ("连续两期未达标预警", "Below standard twice running"),
    "feed.revision": ("数据版本", "Revision"),
    "scores.revision": ("版本", "Revision"),
    "scores.unpublished": ("未发布", "not published"),
    "scores.none": ("暂无已发布的评议结果", "No published results yet"),
    "scores.preview_banner": (
        "预览：这是最近一次清洗的结果，尚未发布，人事部门和被评议人看不到。",
        "Preview: the latest cleaning run, not published; HR and staff cannot see it.",
    ),
    "scores.policy_line": (
        "规则版本 {version}；优秀名额 {quota}%；群众满意率低于 {min}% 评为最低等次",
        "Policy {version}; 优秀 quota {quota}%; below {min}% public satisfaction: lowest grade",
    ),
    "scores.hash": ("数据快照指纹", "Snapshot hash"),
    "scores.previous": ("上期：{code}", "previous: {code}"),
    "scores.export": ("导出", "Export"),
    "scores.publish_note": ("发布说明", "Publication note"),
    "scores.notes": ("说明", "Notes"),
    "scores.final": ("最终等次", "Final grade"),
    "scores.final_note": ("与建议不同时请说明理由", "Reason if different"),
    "scores.approve": ("确认", "Approve"),
    "scores.policy": ("考核规则", "Appraisal policy"),
    "scores.policy_help": (
        "规则按版本保存；已发布的结果保留发布时的规则。",
        "Policies are versioned; published results keep the policy they were published with.",
    ),
    "scores.policy_version": ("规则版本", "Policy version"),
    "scores.preset": ("等次名称", "Grade labels"),
    "scores.threshold": ("{grade} 最低分", "Lowest total for {grade}"),
    "scores.satisfied_min": ("计为满意的等级", "Counted as satisfied"),
    "scores.satisfied_from.5": ("仅非常满意", "very satisfied only"),
    "scores.satisfied_from.4": ("满意及以上", "satisfied and above"),
    "scores.satisfied_from.3": ("基本满意及以上", "fairly satisfied and above"),
    "appeals.same": (
        "按冻结数据重算，结果与发布的一致",
        "Recomputing the frozen inputs gives the published row",
    ),
    "appeals.differs": ("重算结果与发布的不一致！", "Recomputing gives a different row!"),
    "feed.missing.revision_delta": (
        "与已发布版本相比评价人数变化少于k人，为防推算不予显示",
        "differs from a published revision by fewer than k raters: hidden so no one can subtract",
    ),
    "feed.note.window_source": (
        "满意率取自所在窗口的评价",
        "satisfaction from the window's ratings",
    ),
    "scores.level_scores": (
        "各等级分值（非常满意→非常不满意）",
        "Points per level (very satisfied → very dissatisfied)",
    ),
    "scores.quota": ("优秀名额比例 (%)", "优秀 quota (%)"),
    "scores.rounding": ("名额取整", "Quota rounding"),
    "scores.floor": ("向下取整（不超过）", "round down (no more than)"),
    "scores.round": ("四舍五入", "round half up"),
    "scores.min_satisfaction": ("满意率下限 (%)", "Minimum satisfaction (%)"),
    "scores.min_public": ("满意率最少样本数", "Minimum public ratings"),
    "scores.min_weight": ("计算综合得分所需最低权重 (%)", "Weight needed for a total (%)"),
    "scores.superior_k": ("上级评价最少人数", "Minimum superiors"),
    "scores.appeal_days": ("申诉期限（天）", "Appeal period (days)"),
    "scores.save_policy": ("保存为新版本", "Save as a new version"),
    "me.no_staff": (
        "此账号未关联工作人员记录，没有个人评议结果。",
        "This login is not linked to a staff record, so it has no results of its own.",
    ),
    "me.component": ("评价维度", "Component"),
    "me.score": ("得分", "Score"),
    "me.explain": (
        "建议等次依据规则 {version}：综合得分 ≥{t0:g} 为{g0}，≥{t1:g} 为{g1}，≥{t2:g} 为{g2}，"
        "其下为{g3}；{g0}名额不超过本单位 {quota}%；群众满意率低于 {min}% 评为{g3}。"
        "最终等次由决定人确认。",
        "Recommended by policy {version}: total ≥{t0:g} {g0}, ≥{t1:g} {g1}, ≥{t2:g} {g2}, "
        "below that {g3}; {g0} for at most {quota}% of the unit; public satisfaction below "
        "{min}% means {g3}. A person decides the final grade.",
    ),
    "me.appeal": ("申请复核（截止 {date}），请写明理由：", "Request a review (until {date}):"),
    "me.appeal_submit": ("提交复核申请", "Request review"),
    "me.appeal_closed": ("复核申请期限已过。", "The review period has ended."),
    "me.none": ("暂无已发布的评议结果。", "No published results yet."),
    "appeals.title": ("申诉复核", "Appeals"),
    "appeals.state": ("状态", "State"),
    "appeals.state.submitted": ("待复核", "under review"),
    "appeals.state.upheld": ("已支持", "upheld"),
    "appeals.state.rejected": ("未支持", "rejected"),
    "appeals.decision": ("复核结论", "Decision"),
    "appeals.step.appeal.submit": ("提交申请", "submitted"),
    "appeals.step.appeal.upheld": ("复核支持，结果已更正", "upheld, results corrected"),
    "appeals.step.appeal.rejected": ("复核未支持", "rejected"),
    "appeals.recomputed": ("按冻结数据重新计算", "Recomputed from the frozen inputs"),
    "appeals.intact": ("快照未被改动", "Snapshot intact"),
    "appeals.broken": ("快照与申诉时不一致！", "Snapshot differs from the one appealed!"),
    "appeals.help": (
        "支持申诉前，请先更正数据（撤销标记或更正答卷）并重新清洗；支持后该次清洗作为新版本发布。",
        "Before upholding, correct the data (override a flag or correct a response) and "
        "re-run the cleaning; upholding publishes that run as a new revision.",
    ),
    "appeals.uphold": ("支持", "Uphold"),
    "appeals.reject": ("不支持", "Reject"),
    "feed.yes": ("是", "yes"),
    "notice.bad_link": (
        "无法识别此二维码或链接，请扫描窗口张贴的二维码。",
        "This code or link is not recognised. Please scan the code displayed at the window.",
    ),
    # organisation editing (console_org_edit)
    "orgedit.fix": ("请修改以下问题后再保存：", "Please fix the following and save again:"),
    "orgedit.saved": ("已保存。", "Saved."),
    "orgedit.unit_new": ("新建单位", "New unit"),
    "orgedit.unit_edit": ("编辑单位", "Edit unit"),
    "orgedit.window_new": ("新建窗口", "New window"),
    "orgedit.window_edit": ("编辑窗口", "Edit window"),
    "orgedit.staff_new": ("新增人员", "New staff member"),
    "orgedit.staff_edit": ("编辑人员", "Edit staff member"),
    "orgedit.code_help": (
        "字母、数字、- 和 _；创建后不可修改（导入时按编码匹配）。",
        "Letters, digits, - and _; fixed once created (imports match rows by code).",
    ),
    "orgedit.staff_code": ("工号", "Staff code"),
    "orgedit.name_en": ("英文名称", "English name"),
    "orgedit.number": ("窗口号", "Window number"),
    "orgedit.hours_help": (
        "如 08:30-12:00,13:30-17:30；留空表示全天。",
        "For example 08:30-12:00,13:30-17:30; empty means all day.",
    ),
    "orgedit.active_unit": (
        "启用（停用后不再出现在新建评议活动中，历史数据保留）",
        "Active (a retired unit is not offered for new campaigns; its data stays)",
    ),
    "orgedit.active_window": (
        "启用（停用后不再生成二维码，历史评价保留）",
        "Active (a retired window gets no QR code; its ratings stay)",
    ),
    "orgedit.usual_window": ("常驻窗口", "Usual window"),
    "orgedit.window_help": (
        "须为所属单位的窗口。",
        "Must be a window of the staff member's unit.",
    ),
    "orgedit.transfer_help": (
        "调整单位即为调动，常驻窗口须随之调整或清空。",
        "Changing the unit is a transfer: change or clear the usual window too.",
    ),
    "orgedit.no_units": (
        "还没有单位，请先新建单位或导入组织机构。",
        "There are no units yet: create a unit or import the organisation first.",
    ),
    "orgedit.edit": ("编辑", "Edit"),
    "orgedit.error.code": (
        "编码必填，最多 {max} 个字符，只能包含字母、数字、- 和 _。",
        "The code is required: at most {max} letters, digits, - and _.",
    ),
    "orgedit.error.code_taken": (
        "编码 {code} 已被使用。",
        "The code {code} is already in use.",
    ),
    "orgedit.error.required": ("请填写{field}。", "{field} is required."),
    "orgedit.error.too_long": (
        "{field}最多 {max} 个字符。",
        "{field} is at most {max} characters long.",
    ),
    "orgedit.error.hours": (
        "办公时间“{value}”格式有误，应如 08:30-12:00,13:30-17:30。",
        "Opening hours {value!r} are not valid; write them like 08:30-12:00,13:30-17:30.",
    ),
    "orgedit.error.unit": ("请选择一个有效的单位。", "Choose a valid unit."),
    "orgedit.error.window": ("请选择一个有效的窗口。", "Choose a valid window."),
    "orgedit.error.window_unit": (
        "常驻窗口必须属于所选单位。",
        "The usual window must belong to the chosen unit.",
    ),
    "orgedit.error.category": ("请选择岗位类别。", "Choose a post category."),
    "orgedit.field.name": ("名称", "The name"),
    "orgedit.field.name_en": ("英文名称", "The English name"),
    "orgedit.field.opening_hours": ("办公时间", "Opening hours"),
    "orgedit.field.number": ("窗口号", "The window number"),
    # scheduled opening and closing (services/schedule)
    "schedule.title": ("定时开始与结束", "Scheduled opening and closing"),
    "schedule.link": ("定时开始/结束", "Schedule opening/closing"),
    "schedule.help": (
        "到点后系统自动开始或结束评议，效果与手动操作相同（生成评议关系、"
        "记入审计日志，操作人为 scheduler）。时间为办事大厅当地时间。",
        "At the set time the campaign opens or closes by itself, exactly as by hand "
        "(who-rates-whom is built, the audit log records actor scheduler). Times are "
        "the hall's local time.",
    ),
    "schedule.opens_at": ("开始时间", "Opens at"),
    "schedule.closes_at": ("结束时间", "Closes at"),
    "schedule.opened": ("（实际开始时间）", "(when it actually opened)"),
    "schedule.empty_help": (
        "留空表示不定时，需手动开始或结束。",
        "Leave empty to open or close by hand.",
    ),
    "schedule.fixed": (
        "评议已结束，不能再定时。",
        "The campaign has closed; there is nothing left to schedule.",
    ),
    "schedule.none": ("未设定", "not set"),
    "schedule.error.format": (
        "时间“{value}”格式有误，应如 2026-10-01T08:30。",
        "The time {value!r} is not valid; write it like 2026-10-01T08:30.",
    ),
    "schedule.error.order": (
        "结束时间必须晚于开始时间。",
        "The closing time must come after the opening time.",
    ),
    "schedule.error.past": (
        "结束时间已过，请设定将来的时间。",
        "The closing time has already passed; choose a time to come.",
    ),
    "schedule.error.changed": (
        "评议状态刚刚发生变化，请刷新页面后再设定。",
        "The campaign changed state just now; reload the page and try again.",
    ),
    "schedule.error.state": (
        "评议处于“{state}”状态，不能再定时。",
        "The campaign is {state}; it can no longer be scheduled.",
    ),
    # service indicators (services/indicators)
    "ind.title": ("服务评价指标", "Service indicators"),
    "ind.link": ("服务评价指标（好评率等）", "Service indicators (good-rating rate and more)"),
    "ind.good_rate": ("好评率", "Good ratings"),
    "ind.active_good_rate": ("主动评价好评率", "Good ratings, citizen-given"),
    "ind.unrated_rate": ("未评率", "Unrated"),
    "ind.reply_rate": ("差评回复率", "Bad reviews answered"),
    "ind.rectify_rate": ("回访整改率", "Rectified and called back"),
    "ind.handling_satisfaction": ("回访整改满意率", "Satisfied with the handling"),
    "ind.from": ("自", "From"),
    "ind.to": ("至", "To"),
    "ind.csv": ("下载 CSV", "Download CSV"),
    "ind.total": ("合计", "Total"),
    "ind.no_data": ("数据不足", "Insufficient data"),
    "ind.inactive": ("已停用", "retired"),
    "ind.no_units": ("没有可显示的单位。", "No unit to show."),
    "ind.details": (
        "展开：{windows} 个窗口，{staff} 名人员",
        "Show {windows} windows and {staff} staff",
    ),
    "ind.help": (
        "好评指评价为 {levels}。“—”表示数据不足（分母为 0），不是 0%。每格下方为分子/分母。",
        "A good rating is {levels}. “—” means insufficient data (nothing to divide by), "
        "not 0 %. Under each rate: numerator/denominator.",
    ),
    "ind.definitions": ("指标口径", "Definitions"),
    "ind.def.good_rate": (
        "好评数 ÷ 群众评价总数（含平台默认评价）。",
        "Good ratings ÷ all public ratings (platform default ratings included).",
    ),
    "ind.def.active_good_rate": (
        "主动评价中的好评数 ÷ 主动评价数；群众未评价时平台给出的默认评价不计入。",
        "Good ratings ÷ ratings the citizen gave; a platform's default rating for an "
        "unrated service is left out.",
    ),
    "ind.def.unrated_rate": (
        "发放后群众未评价的评价码 ÷ 发放的评价码（一事一评）；未发码的单位显示“—”。",
        "Tickets the citizen did not rate ÷ tickets issued (一事一评); “—” where no "
        "tickets are issued.",
    ),
    "ind.def.reply_rate": (
        "已首次联系的差评工单 ÷ 差评工单。",
        "Bad-review cases with a first contact ÷ bad-review cases.",
    ),
    "ind.def.rectify_rate": (
        "已整改并回访后结案的差评工单 ÷ 差评工单。",
        "Cases closed with a rectification and a call-back ÷ bad-review cases.",
    ),
    "ind.def.handling_satisfaction": (
        "群众对处理结果评价为满意或基本满意的工单 ÷ 有此评价的工单。",
        "Cases whose handling the citizen rated satisfied or fairly satisfied ÷ cases "
        "with such a rating.",
    ),
    "ind.raw_note": (
        "按原始评价统计（未经数据清洗）；已排除机器人陷阱提交和被更正取代的评价。",
        "Counted on raw ratings (before cleaning); bot-trap submissions and ratings "
        "replaced by a correction are left out.",
    ),
    "ind.error.date": (
        "日期“{value}”格式有误，应如 2026-10-01。",
        "The date {value!r} is not valid; write it like 2026-10-01.",
    ),
    "ind.error.range": ("结束日期早于开始日期。", "The end date is before the start date."),
    "ind.col.level": ("层级", "level"),
    "ind.col.unit_code": ("单位编码", "unit_code"),
    "ind.col.code": ("编码", "code"),
    "ind.col.name": ("名称", "name"),
    "ind.col.ratings": ("评价数", "ratings"),
    "ind.col.satisfied": ("好评数", "satisfied"),
    "ind.col.active": ("主动评价数", "active"),
    "ind.col.active_satisfied": ("主动好评数", "active_satisfied"),
    "ind.col.tickets": ("发码数", "tickets"),
    "ind.col.tickets_unrated": ("未评数", "tickets_unrated"),
    "ind.col.cases": ("差评工单数", "cases"),
    "ind.col.cases_contacted": ("已联系工单数", "cases_contacted"),
    "ind.col.cases_rectified": ("整改回访结案数", "cases_rectified"),
    "ind.col.handling_rated": ("处理评价数", "handling_rated"),
    "ind.col.handling_satisfied": ("处理满意数", "handling_satisfied"),
    "ind.col.good_rate": ("好评率(%)", "good_rate_pct"),
    "ind.col.active_good_rate": ("主动评价好评率(%)", "active_good_rate_pct"),
    "ind.col.unrated_rate": ("未评率(%)", "unrated_rate_pct"),
    "ind.col.reply_rate": ("差评回复率(%)", "reply_rate_pct"),
    "ind.col.rectify_rate": ("回访整改率(%)", "rectify_rate_pct"),
    "ind.col.handling_satisfaction": ("回访整改满意率(%)", "handling_satisfaction_pct"),
    # sampled phone follow-up (电话回访)
    "nav.phone": ("电话回访", "Phone follow-up"),
    "phone.title": ("电话回访", "Phone follow-up"),
    "phone.help": (
        "从排队叫号系统的已办件中按单位、窗口和周分层随机抽样，回访留有回拨号码的群众。"
        "抽样框、随机种子、入样概率和抽样结果均已保存并记入审计日志，任何人可据此重抽核对。",
        "A stratified random sample (unit, window, week) of the queue system's served "
        "tickets that carry a call-back number. The frame, the seed, each ticket's "
        "selection probability and the draw are stored and audited: anyone can re-draw it.",
    ),
    "phone.round": ("轮次", "Round"),
    "phone.campaign": ("评议活动", "Campaign"),
    "phone.drawn_at": ("抽样时间", "Drawn at"),
    "phone.sampled": ("入样", "Sampled"),
    "phone.completed": ("完成", "Completed"),
    "phone.no_rounds": ("尚无回访轮次。", "No rounds yet."),
    "phone.draw": ("抽取样本", "Draw a sample"),
    "phone.draw_help": (
        "每层（单位×窗口×周）抽取的件数；不足时全部入样。期间默认为活动期间；种子留空则随机生成。",
        "Tickets per stratum (unit x window x week); a smaller stratum is taken whole. "
        "The period defaults to the campaign's; an empty seed is drawn at random.",
    ),
    "phone.per_stratum": ("每层抽取件数", "Tickets per stratum"),
    "phone.from": ("办件日期自", "Served from"),
    "phone.to": ("办件日期至", "Served until"),
    "phone.seed": ("随机种子", "Seed"),
    "phone.frame_hash": ("抽样框摘要", "Frame hash"),
    "phone.draw_hash": ("样本摘要", "Draw hash"),
    "phone.verify": ("按种子重抽核对", "Re-draw from the seed and compare"),
    "phone.verified": (
        "核对一致：按保存的抽样框和种子重抽得到相同的 {n} 件样本。",
        "Verified: re-drawing from the stored frame and seed gives the same {n} tickets.",
    ),
    "phone.not_verified": (
        "核对不一致：抽样框或样本与保存的记录不符。",
        "Mismatch: the frame or the sample differs from the stored record.",
    ),
    "phone.estimates": ("回访满意度与扫码满意度", "Phone-sampled and QR satisfaction"),
    "phone.estimates_help": (
        "回访满意度以入样概率的倒数加权（Hajek 估计，95% 置信区间）；扫码满意度来自群众"
        "自愿扫码评价（清洗后）。少于 k 个回答的单位不显示。",
        "Phone satisfaction is weighted by inverse selection probabilities (Hajek "
        "estimator, 95% confidence interval); QR satisfaction comes from citizens who chose "
        "to scan and rate (after cleaning). Units with fewer than k answers are hidden.",
    ),
    "phone.unit": ("单位", "Unit"),
    "phone.window": ("窗口", "Window"),
    "phone.week": ("周", "Week"),
    "phone.phone_sat": ("回访满意度", "Phone satisfaction"),
    "phone.qr_sat": ("扫码满意度", "QR satisfaction"),
    "phone.ci": ("95% 置信区间", "95% CI"),
    "phone.gap": ("差值（百分点）", "Gap (points)"),
    "phone.hidden": ("样本不足，不显示", "too few, hidden"),
    "phone.rates": ("分层应答率与接触率", "Response and contact rates by stratum"),
    "phone.rates_help": (
        "RR1 = 完成数 ÷ 入样数；CON1 = 接通数（完成、拒访、约定再拨）÷ 入样数"
        "（AAPOR 标准定义）。已办件数与抽样框件数之差为未留回拨号码的件数。",
        "RR1 = completed / sampled; CON1 = reached (completed, refused, call back later) "
        "/ sampled (AAPOR Standard Definitions). Served minus frame: tickets without a "
        "call-back number.",
    ),
    "phone.served": ("已办件", "Served"),
    "phone.frame": ("抽样框", "Frame"),
    "phone.all_strata": ("合计", "All strata"),
    "phone.call_list": ("回访名单", "Call list"),
    "phone.call_list_help": (
        "号码只在拨打时显示，每次显示都记入审计日志；一次只能拨打一个。",
        "The number is shown only while calling, each time recorded in the audit log; "
        "one call at a time.",
    ),
    "phone.served_at": ("办件日期", "Served on"),
    "phone.outcome": ("回访结果", "Outcome"),
    "phone.attempts": ("拨打次数", "Attempts"),
    "phone.busy": ("他人拨打中", "being called"),
    "phone.call": ("拨打", "Call"),
    "phone.number": ("回拨号码", "Call-back number"),
    "phone.number_help": (
        "仅用于本次回访，请勿记录或外传。",
        "For this call only: do not write it down or pass it on.",
    ),
    "phone.script": (
        "您好，这里是第三方评估机构，想了解您最近在政务服务窗口办事的感受，大约一分钟。",
        "Hello, this is the independent evaluation agency. May we ask about your recent "
        "visit to the service window? It takes about a minute.",
    ),
    "phone.questionnaire_help": (
        "仅在“完成”时填写问卷。",
        "Fill in the questionnaire only for a completed call.",
    ),
    "phone.save": ("保存结果", "Save the outcome"),
    "phone.release": ("挂断，不记录结果", "Hang up without an outcome"),
    "phone.outcome.pending": ("待拨打", "not called yet"),
    "phone.outcome.completed": ("完成", "completed"),
    "phone.outcome.refused": ("拒访", "refused"),
    "phone.outcome.no_answer": ("无人接听", "no answer"),
    "phone.outcome.wrong_number": ("号码错误", "wrong number"),
    "phone.outcome.call_back": ("约定再拨", "call back later"),
    "phone.error.form": ("请检查填写内容。", "Please check the form."),
    "phone.error.outcome": ("请选择回访结果。", "Choose the call's outcome."),
    "phone.error.campaign": ("没有这个评议活动。", "No such campaign."),
    "phone.error.per_stratum": ("每层抽取件数应为 1 到 1000。", "Tickets per stratum: 1 to 1000."),
    "phone.error.period": ("结束日期早于开始日期。", "The period ends before it starts."),
    "phone.error.empty_frame": (
        "该期间没有留有回拨号码的已办件。",
        "No served ticket with a call-back number in this period.",
    ),
    "phone.error.no_round": ("没有这个回访轮次。", "No such round."),
    "phone.error.number": (
        "回拨号码应为 1 到 60 个字符。",
        "A call-back number has 1 to 60 characters.",
    ),
    "phone.error.no_call": ("没有这个回访。", "No such call."),
    "phone.error.finished": ("该回访已结束。", "This call is finished."),
    "phone.error.busy": ("请先完成当前的回访。", "Finish your current call first."),
    "phone.error.taken": ("其他访员正在拨打。", "Another interviewer is making this call."),
    "phone.error.no_window": ("没有这个窗口。", "No such window."),
    "phone.error.not_held": ("请先点击“拨打”。", "Take the call before recording its outcome."),
    "phone.error.refused": (
        "评价未能保存（活动已结束？）。",
        "The rating was refused (campaign closed?).",
    ),
}

MESSAGES.update(REPORT_MESSAGES)  # the campaign report's texts
MESSAGES.update(MYSTERY_MESSAGES)  # mystery shopping (暗访)


def pick_language(requested: str | None, default: str) -> str:
    if requested:
        lowered = requested.lower()
        if lowered.startswith("en"):
            return "en"
        if lowered.startswith("zh"):
            return "zh-CN"
    return default if default in LANGUAGES else "zh-CN"


def translate(key: str, lang: str, **params: Any) -> str:
    zh, en = MESSAGES.get(key, (key, ""))
    text = en if lang == "en" and en else zh
    return text.format(**params) if params else text
