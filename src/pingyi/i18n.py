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
