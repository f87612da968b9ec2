"""Comment text: anonymising, tokenising with the government-service dictionary, phrases and theme rules."""

import re
import threading
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
USER_DICTIONARY = HERE / "userdict.txt"
STOP_WORDS_FILE = HERE / "stopwords.txt"

# 堵点、痛点、难点: a theme applies when any of its keywords occurs in the comment (plain substring match,
# so it does not depend on how jieba splits). A comment can carry several themes.
THEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "queue": (
        "排队等待",
        ("排队", "排了", "排长队", "等候", "取号", "叫号", "等了", "人太多", "窗口开得太少"),
    ),
    "materials": (
        "材料反复",
        ("补材料", "补正", "材料被退回", "一次性告知", "还差", "材料清单", "复印件", "证明", "原件"),
    ),
    "trips": ("多跑路", ("跑了", "白跑", "来回跑", "跑多次", "跑一趟", "跑冤枉路", "再来一次", "趟")),
    "attitude": ("服务态度", ("态度", "不耐烦", "说话很冲", "爱答不理", "冷淡", "刁难", "看手机", "没人")),
    "system": (
        "系统故障",
        ("系统", "登录不上", "报错", "卡死", "卡顿", "打不开", "维护中", "网页", "页面", "上传"),
    ),
    "time_limit": (
        "办理时限",
        (
            "超时",
            "没办结",
            "还没办",
            "一拖再拖",
            "承诺时限",
            "审核中",
            "没有结果",
            "一个月",
            "工作日",
            "十几天",
        ),
    ),
    "policy": (
        "政策解释",
        ("说不清楚", "说不清", "解释", "指南", "业务不熟", "答不上来", "互相推", "咨询", "不予受理", "理由"),
    ),
}
THEME_NAMES = {code: name for code, (name, _) in THEMES.items()}
THEME_RULES_TEXT = "；".join(f"{name}：{'、'.join(words)}" for name, words in THEMES.values())

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        tk = jieba.Tokenizer()
        tk.load_userdict(str(USER_DICTIONARY))
        tk.initialize()
    return tk


@lru_cache(maxsize=1)
def stop_words() -> frozenset:
    return frozenset(w.strip() for w in STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines() if w.strip())


_CONTENT = re.compile(r"^[\u4e00-\u9fff]{2,}$|^[A-Za-z]{2,}$")


def tokenise(text: str) -> list[str]:
    """All tokens of the text in order (the user dictionary keeps terms like 一次性告知 whole)."""
    return [t for t in _tokenizer().lcut(text or "", HMM=True) if t.strip()]


def content_words(text: str) -> list[str]:
    """Tokens worth counting: two or more CJK characters (or letters), not stop words."""
    stops = stop_words()
    return [t for t in tokenise(text) if _CONTENT.match(t) and t not in stops and "某" not in t]


def phrases(words: list[str]) -> list[str]:
    """Bigrams of adjacent content words, e.g. 窗口 + 态度 → 窗口态度 (shown as 窗口·态度)."""
    return [f"{a}·{b}" for a, b in pairwise(words) if a != b]


def themes_of(text: str) -> list[str]:
    text = text or ""
    return [code for code, (_, words) in THEMES.items() if any(w in text for w in words)]


# --- anonymising ------------------------------------------------------------------------------------

_DIGITS = re.compile(r"(?<![\dA-Za-z])(?:\+?86[\s\-]?)?(?:\d[\s\-]?){6,}[\dXx]?(?![\dA-Za-z])")
_TITLED = re.compile(
    r"[\u4e00-\u9fff]{1,3}(?=(?:先生|女士|小姐|师傅|老师|阿姨|大姐|大哥|同志|科长|主任|处长|局长|经理))"
)
_LABELLED = re.compile(
    r"((?:经办人|受理人|办事员|工作人员|窗口人员|联系人|评价人|申请人|姓名|我叫|我是|我姓|本人是|本人|名叫|叫做)[：:\s]*)"
    r"([\u4e00-\u9fff]{2,3})"
)
_AFTER_NAME = "态说很不的让对给一在是就把也都办没服业和跟讲"
_NOT_NAMES = ("态度", "说话", "不耐", "业务", "很好", "服务", "一直", "根本", "没有", "太差", "非常", "主动")


def anonymise(text: str, *, names=()) -> str:
    """Public form of a free text: digit runs of 7+ (phones, ID numbers, landlines) become ＊, a known
    name becomes 某某, and names before titles (王先生) or after labels (经办人张伟) become 某/某某."""
    out = text or ""
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        out = out.replace(name, "某某")
    out = _DIGITS.sub(lambda m: "＊" * 6, out)
    out = _TITLED.sub("某", out)

    def labelled(m):
        name = m.group(2)
        if name.startswith("某") or name[:2] in _NOT_NAMES:
            return m.group(0)
        tail = name[2:] if name[2:] and name[2] in _AFTER_NAME else ""
        return m.group(1) + "某某" + tail

    return _LABELLED.sub(labelled, out)
