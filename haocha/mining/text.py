"""Comment text: tokenising with the government-service dictionary (userdict.txt keeps units, systems and
documents whole), synonyms merged, the domain stop list, and phrases (the public form of a text, without
personal data, is haocha.core.anonymise; the themes are haocha.mining.classifier)."""

import re
import threading
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
USER_DICTIONARY = HERE / "userdict.txt"
STOP_WORDS_FILE = HERE / "stopwords.txt"

# Words citizens write for one thing, counted as one keyword (社保卡/社保/社保局 → 社保).
SYNONYMS = {
    "社保卡": "社保",
    "社保局": "社保",
    "社保中心": "社保",
    "医保局": "医保",
    "医保卡": "医保",
    "公积金中心": "公积金",
    "不动产中心": "不动产登记",
    "不动产登记中心": "不动产登记",
    "登陆": "登录",
    "app": "APP",
    "App": "APP",
    "手机APP": "APP",
    "排长队": "排队",
    "取不到号": "取号难",
    "号贩子": "黄牛",
    "打不通": "电话打不通",
    "无人接听": "电话打不通",
    "没人接": "电话打不通",
    "车位": "停车",
    "停车位": "停车",
    "停车场": "停车",
    "闪退": "系统故障",
    "卡顿": "系统故障",
    "卡死": "系统故障",
    "系统卡顿": "系统故障",
    "白跑": "多次跑",
    "来回跑": "多次跑",
    "跑多次": "多次跑",
    "不耐烦": "态度差",
    "态度差": "态度差",
    "爱答不理": "态度差",
}

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


# counts and times of day (三次, 一个, 两个多, 一上午) say nothing on their own
_NUMERAL = re.compile(
    r"^[一二两三四五六七八九十几百千半多好每整]+[个次趟回遍天周月年号点分岁份样张多]*$|^[一整]?[上下中]午$|^[今明昨前后]天$"
)
_CONTENT = re.compile(r"^[\u4e00-\u9fff]{2,}$|^[A-Za-z]{2,}$")


def tokenise(text: str) -> list[str]:
    """All tokens of the text in order (the user dictionary keeps terms like 一次性告知 whole)."""
    return [t for t in _tokenizer().lcut(text or "", HMM=True) if t.strip()]


def content_words(text: str) -> list[str]:
    """Tokens worth counting: two or more CJK characters (or letters), synonyms merged, without stop words
    (function words and the generic words of every 差评 such as 办理、工作人员、大厅)."""
    stops = stop_words()
    words = []
    for t in tokenise(text):
        t = SYNONYMS.get(t, t)
        if _CONTENT.match(t) and not _NUMERAL.match(t) and t not in stops and "某" not in t and "＊" not in t:
            words.append(t)
    return words


def phrases(words: list[str]) -> list[str]:
    """Bigrams of adjacent content words, e.g. 窗口 + 态度 → 窗口态度 (shown as 窗口·态度)."""
    return [f"{a}·{b}" for a, b in pairwise(words) if a != b]
