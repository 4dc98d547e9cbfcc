"""User-facing text in Chinese (the default) and English.

A missing English text falls back to Chinese, never to a key: users must always
read a sentence.
"""

from __future__ import annotations

from typing import Any

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
    "home.title": ("工作台", "Dashboard"),
    "nav.campaigns": ("评议活动", "Campaigns"),
    "nav.org": ("组织机构", "Organisation"),
    "nav.questionnaires": ("问卷", "Questionnaires"),
    "nav.audit": ("审计日志", "Audit log"),
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
    "flags.none": ("尚未运行数据清洗。", "Cleaning has not run yet."),
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
    "notice.closed": ("本次评价暂未开放或已结束。", "This evaluation is not open at the moment."),
    "notice.ticket_used": (
        "这次服务已经评价过了，谢谢！",
        "This service has already been rated. Thank you!",
    ),
    "notice.ticket_expired": (
        "评价链接已过期。感谢您的关注！",
        "This rating link has expired. Thank you for your interest!",
    ),
    "notice.bad_link": (
        "无法识别此二维码或链接，请扫描窗口张贴的二维码。",
        "This code or link is not recognised. Please scan the code displayed at the window.",
    ),
}


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
