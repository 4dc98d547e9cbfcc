"""Stop words for comment keywords: Chinese function words, pronouns, fillers and a few
words every service-hall comment contains (they say nothing about what went wrong).

Words are compared after jieba segmentation, so multi-character entries matter; single
characters are dropped anyway (see report_stats.keyword_counts). English entries cover
comments typed in English.
"""

from __future__ import annotations

_ZH = """
的 了 着 过 地 得 之 和 与 及 或 而 且 但 并 也 都 就 才 又 还 再 很 太 更 最 非常 特别 比较
十分 挺 真 真的 确实 实在 有点 有些 一些 一点 一下 一样 一直 一般 一定 已经 正在 还是 还有 还要
我 你 您 他 她 它 我们 你们 他们 她们 它们 咱们 大家 自己 别人 人家 本人 某某
这 那 这个 那个 这些 那些 这样 那样 这么 那么 这里 那里 这儿 那儿 这次 那次 这边 那边 此 其
什么 怎么 怎样 怎么样 为什么 为何 哪里 哪个 哪些 多少 几个 如何 是否 是不是 有没有
是 有 没 没有 不是 不会 不能 不要 不用 可以 可能 能够 应该 需要 要 会 能 想 让 给 被 把 将 对 对于
关于 因为 所以 因此 但是 可是 然而 不过 而且 并且 或者 如果 要是 虽然 虽说 即使 尽管 只是 只有
然后 之后 以后 以前 之前 后来 现在 当时 今天 昨天 明天 时候 的时候 一次 每次 有时 总是 经常
上 下 里 中 内 外 前 后 左 右 来 去 到 在 从 向 往 于 以 为 按 按照 根据 通过 由于 除了
啊 吧 呢 吗 嘛 呀 哦 哈 嗯 哎 唉 啦 咯 喔 噢 呗 罢了 而已 等 等等 之类 方面 情况 问题 事情 东西
个 位 次 些 种 样 回 件 条 份 名 人 家
一 二 三 四 五 六 七 八 九 十 两 几 多 少 每 各 某 另 另外 其他 其它 其中 所有 全部 整个
小时 分钟 工作人员 工作 人员 窗口 办理 办事 业务 大厅 政务 服务中心 中心
评价 希望 感觉 觉得 认为 表示
"""

_EN = """
a an the and or but if of to in on at by for with from as is are was were be been being
it its this that these those i you he she we they me my your our their them his her
very so too not no yes do does did done have has had will would can could should
please thanks thank just also there here what when where which who why how
"""

STOPWORDS: frozenset[str] = frozenset(_ZH.split()) | frozenset(_EN.split())
