"""Comment text: tokenising with the government-service dictionary, phrases and theme rules (the public form
of a text, without personal data, is haocha.core.anonymise)."""

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
