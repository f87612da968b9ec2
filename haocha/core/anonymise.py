"""Personal data out of free text before it is published: ID numbers, phones, WeChat and QQ ids, e-mail
addresses, account handles, bank cards, vehicle plates and names of people. Only those are masked; every other character (dates,
counts, amounts, case numbers, places, units, ordinary words) stays exactly as written.

Numbers are found on a "digit view" of the text of the same length (full-width forms and runs of Chinese
numerals read as digits), so a span found there is a span of the original. Phones go through Google's
libphonenumber (`phonenumbers`) besides the mainland mobile pattern; names through jieba's part-of-speech
tags (`nr`) checked against a surname table, honorifics (先生, 女士, 师傅, 科长 …), the words around them
and the names the caller knows (staff, the evaluator). Nothing is taken for a name by its position alone.
"""

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

KINDS = {
    "id_number": "身份证号",
    "phone": "电话号码",
    "wechat": "微信号",
    "qq": "QQ号",
    "email": "电子邮箱",
    "handle": "账号",
    "bank_card": "银行卡号",
    "plate": "车牌号",
    "name": "姓名",
}
MASK = "＊＊＊"  # numbers, ids and addresses
NAME_MASK = "某某"
SURNAME_FILE = Path(__file__).resolve().parent / "data" / "surnames.txt"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    replacement: str


@dataclass(frozen=True)
class Anonymised:
    """The public form of a text and what was taken out of it."""

    text: str
    spans: tuple[Span, ...] = ()

    @property
    def masked(self) -> bool:
        return bool(self.spans)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(s.kind for s in self.spans)

    def __str__(self) -> str:
        return self.text


def anonymise(text: str | None, *, names=()) -> Anonymised:
    """Mask the personal data in `text`; `names` are people's names the caller knows (staff, evaluator)."""
    text = text or ""
    spans = find_personal_data(text, names=names)
    out, pos = [], 0
    for s in spans:
        out.append(text[pos : s.start])
        out.append(s.replacement)
        pos = s.end
    out.append(text[pos:])
    return Anonymised("".join(out), tuple(spans))


def find_personal_data(text: str, *, names=()) -> list[Span]:
    """Non-overlapping spans of personal data in `text`, in order (the longest wins an overlap)."""
    if not text:
        return []
    view = digit_view(text)
    found = [
        *_known_names(text, names),
        *_emails(view),
        *_id_numbers(view),
        *_mobiles(view),
        *_other_phones(view),
        *_messenger_ids(view),
        *_handles(view),
        *_bank_cards(view),
        *_plates(view),
        *_names(text),
    ]
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[Span] = []
    for s in found:
        if out and s.start < out[-1].end:
            continue
        out.append(s)
    return out


# --- the digit view ------------------------------------------------------------------------------------

_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "幺": "1", "两": "2"}
_CN_RUN = re.compile(r"[〇零一二三四五六七八九幺两](?:[\s\-－—.．·]?[〇零一二三四五六七八九幺两]){6,}")


_O_FOR_ZERO = re.compile(r"(?<![A-Za-z])(\d{6,})[Oo](?![A-Za-z])")


def digit_view(text: str) -> str:
    """`text` with full-width forms folded (１３８ → 138, ＠ → @) and runs of seven or more Chinese
    numerals read digit by digit (一三八… → 138…); one character for one, so offsets are the text's."""
    chars = []
    for c in text:
        folded = unicodedata.normalize("NFKC", c) if ord(c) > 0x7F else c
        chars.append(folded if len(folded) == 1 else c)
    for m in _CN_RUN.finditer(text):
        for i in range(m.start(), m.end()):
            chars[i] = _CN_DIGITS.get(text[i], chars[i])
    view = "".join(chars)
    # a letter O typed for a zero at the end of a long number (1387451236O)
    return _O_FOR_ZERO.sub(lambda m: m.group(1) + "0", view)


# --- numbers, ids and addresses ------------------------------------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID18 = re.compile(r"(?<![0-9])[1-9]\d{5}[ \-]?(?:18|19|20)\d{2}[ \-]?\d{4}[ \-]?\d{3}[0-9Xx](?![0-9])")
_ID15 = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])"
)
_ID_LABEL = re.compile(r"(?:身份证|证件|身份号|证号|公民身份|sfz|ID)[^\d]{0,6}$", re.IGNORECASE)
_PROVINCES = {
    *[
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
    ],
    *["71", "81", "82", "83", "91"],
}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SEP = r"[ \-.·_—/]?"
_MOBILE = re.compile(rf"(?<![0-9])(?:(?:\+|00)?86{_SEP})?1[3-9]\d(?:{_SEP}\d){{8}}(?![0-9])")
_LABELLED_NUMBER = re.compile(
    r"(?:电话|手机|座机|联系方式|联系|打|拨|tel|Tel|TEL|dh)[号是为：:\s]{0,3}(\d(?:[ \-]?\d){6,11})(?![0-9])"
)
_SERVICE_PREFIXES = ("400", "800", "95", "96", "12")
_QQ = re.compile(r"(?:QQ|qq|Qq|扣扣)(?:号码|号|群)?[是为：:\s]{0,3}([1-9]\d{4,11})(?![0-9])")
_WECHAT = re.compile(
    r"(?:微信号|微信|威信|v信|V信|weixin|wechat|vx|VX|Vx|wx|WX|Wx)(?:号)?[是为：:\s]{0,3}"
    r"([A-Za-z0-9][-_A-Za-z0-9]{4,19})(?![-_A-Za-z0-9])"
)
_WXID = re.compile(r"(?<![A-Za-z0-9])wxid_[A-Za-z0-9]{4,}")


def _id_checksum_ok(digits: str) -> bool:
    total = sum(int(d) * w for d, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == digits[17].upper()


def _emails(view: str):
    for m in _EMAIL.finditer(view):
        yield Span(m.start(), m.end(), "email", MASK)


def _id_numbers(view: str):
    for m in _ID18.finditer(view):
        digits = re.sub(r"[ \-]", "", m.group(0))
        labelled = bool(_ID_LABEL.search(view[max(0, m.start() - 12) : m.start()]))
        after_letter = m.start() > 0 and view[m.start() - 1].isascii() and view[m.start() - 1].isalpha()
        if (_id_checksum_ok(digits) and not after_letter) or labelled:
            yield Span(m.start(), m.end(), "id_number", MASK)
    for m in _ID15.finditer(view):
        if m.group(0)[:2] in _PROVINCES:
            yield Span(m.start(), m.end(), "id_number", MASK)


def _mobiles(view: str):
    for m in _MOBILE.finditer(view):
        yield Span(m.start(), m.end(), "phone", MASK)


@lru_cache(maxsize=1)
def _phonenumbers():
    import phonenumbers

    return phonenumbers


def _other_phones(view: str):
    """Landlines with their area codes (0731-88886666, (0731)8888 6666), numbers with a country code, and
    a local number right after 电话/座机/拨 … Service lines (12345, 400/800, 95xxx) are public, not personal."""
    pn = _phonenumbers()
    if sum(c.isdigit() for c in view) < 7:
        return
    for m in pn.PhoneNumberMatcher(view, "CN"):
        national = str(m.number.national_number)
        if national.startswith(_SERVICE_PREFIXES) or len(national) < 10:  # 0731-12345 is a service line
            continue
        if not re.match(
            r"[(（]?(?:0|\+|86)", m.raw_string
        ):  # a landline is written with its 0 (SL-2026-001234 is not one)
            continue
        start = m.start
        if view[start] in "(（" and not any(c in m.raw_string for c in ")）"):
            start += 1
        yield Span(start, m.end, "phone", MASK)
    for m in _LABELLED_NUMBER.finditer(view):
        digits = re.sub(r"[ \-]", "", m.group(1))
        local = re.sub(r"^0(?:10|2\d|[3-9]\d\d)(?=\d{5})", "", digits) if digits.startswith("0") else digits
        if not local.startswith(_SERVICE_PREFIXES) and len(local) >= 7:
            yield Span(m.start(1), m.end(1), "phone", MASK)


def _messenger_ids(view: str):
    for m in _QQ.finditer(view):
        yield Span(m.start(1), m.end(1), "qq", MASK)
    for m in _WECHAT.finditer(view):
        yield Span(m.start(1), m.end(1), "wechat", MASK)
    for m in _WXID.finditer(view):
        yield Span(m.start(), m.end(), "wechat", MASK)


# --- bank cards and vehicle plates ---------------------------------------------------------------------

_CARD = re.compile(r"(?<![0-9A-Za-z])\d(?:[ \-]?\d){11,18}(?![0-9A-Za-z])")
_CARD_LABEL = re.compile(
    r"(?:银行卡|卡号|储蓄卡|信用卡|借记卡|银行账号|银行帐号|账号|帐号|收款账户)[^\d]{0,6}$"
)
_CARD_PREFIXES = ("62", "60", "4", "5", "34", "37", "35")  # 银联, Visa, Mastercard, Amex, JCB


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _bank_cards(view: str):
    """A card number: 16 or 19 digits (spaces or dashes between groups allowed) with a card scheme's prefix
    and a valid Luhn check digit, or 12–19 digits right after 银行卡/卡号/账号 … (other long numbers — case
    numbers, order numbers, amounts — stay as written)."""
    for m in _CARD.finditer(view):
        digits = re.sub(r"[ \-]", "", m.group(0))
        labelled = bool(_CARD_LABEL.search(view[max(0, m.start() - 12) : m.start()]))
        if labelled or (len(digits) in (16, 19) and digits.startswith(_CARD_PREFIXES) and _luhn_ok(digits)):
            yield Span(m.start(), m.end(), "bank_card", MASK)


# 湘A12345, 湘A·D12345 (new energy: six characters), 湘AF1234 — letters never I or O, at least three digits.
_PLATE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•.\s]?"
    r"([A-HJ-NP-Z0-9]{5,6})(?![A-Za-z0-9])"
)


def _plates(view: str):
    for m in _PLATE.finditer(view):
        if sum(c.isdigit() for c in m.group(1)) >= 3:
            yield Span(m.start(), m.end(), "plate", MASK)


# --- account handles: pinyin names such as wangyj, zhangwei01 --------------------------------------------

_PINYIN_SURNAMES = tuple(
    sorted(
        (
            "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang "
            "xie song tang han feng deng cao peng zeng xiao tian dong yuan pan yu jiang cai du ye cheng su "
            "wei lv lyu ding ren shen yao lu cui zhong tan fan wang liao jin jia xia fu fang bai zou meng "
            "xiong qin qiu yin xue yan duan lei hou long shi tao mao hao gu gong shao qian dai mo kong xiang "
            "chang kang niu fan ge xing an qi yi qiao wu pang ni zhuang nie zhan geng guan lan jiao ou zuo "
            "gan zhu bao ning shang shu ruan ke ji mei tong ling bi pei huo tu miao weng ran rao mu zhuo"
        ).split(),
        key=len,
        reverse=True,
    )
)
_INITIALS = set("bcdfghjklmnpqrstwxyz")
_FINALS = (
    "a o e ai ei ao ou an en ang eng ong er i ia ie iao iu ian in iang ing iong u ua uo uai ui uan un "
    "uang ueng v ve van vn ue"
).split()
_ONSETS = ("b p m f d t n l g k h j q x zh ch sh r z c s y w").split()
_SYLLABLES = frozenset([*_FINALS, *(o + f for o in _ONSETS for f in _FINALS)])
_ASCII_WORD = re.compile(r"(?<![A-Za-z0-9@._\-])([A-Za-z]{4,20})(\d{0,6})(?![A-Za-z0-9@\-]|\.[A-Za-z])")
_HANDLE_LABEL = re.compile(
    r"(?:工号|账号|帐号|用户名|登录名|登录账号|昵称|抖音号|id|ID)[是为：:\s]{0,3}([A-Za-z0-9_]{3,20})(?![A-Za-z0-9_])"
)
# Words typed in Latin letters that are not people: apps, brands, systems.
_NOT_HANDLES = frozenset(
    (
        "wifi ukey pdf app apps ocr http https www html excel word wechat weixin alipay zhifubao taobao "
        "douyin huawei xiaomi vivo oppo iphone android ios email mail online login logout ok okay hello "
        "bug bugs test guoban shebao yibao gongjijin zhengwu wangshang xiangban wanban changsha hunan "
        "banshi haocha sorry thanks thank"
    ).split()
)


def _syllables(s: str, parts: int = 0) -> bool:
    """Whether `s` is a run of one to three pinyin syllables."""
    if not s:
        return 0 < parts <= 3
    if parts >= 3:
        return False
    return any(s.startswith(syl) and _syllables(s[len(syl) :], parts + 1) for syl in _SYLLABLES if syl)


def _looks_like_pinyin_name(word: str) -> bool:
    w = word.lower()
    if w in _NOT_HANDLES or len(w) < 5:  # line, long, hong: too short to tell from a word
        return False
    for surname in _PINYIN_SURNAMES:
        if not w.startswith(surname):
            continue
        rest = w[len(surname) :]
        if 1 < len(rest) <= 3 and set(rest) <= _INITIALS:  # wangyj, liuxm
            return True
        if _syllables(rest) and len(rest) >= 2:  # zhangwei, ouyangna
            return True
    return False


def _handles(view: str):
    for m in _HANDLE_LABEL.finditer(view):
        yield Span(m.start(1), m.end(1), "handle", MASK)
    for m in _ASCII_WORD.finditer(view):
        if _looks_like_pinyin_name(m.group(1)):
            yield Span(m.start(), m.end(), "handle", MASK)


# --- names of people -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def surnames() -> tuple[frozenset[str], frozenset[str]]:
    """(single-character surnames, compound surnames) from the maintained table."""
    rows = [
        line.strip()
        for line in SURNAME_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return frozenset(r for r in rows if len(r) == 1), frozenset(r for r in rows if len(r) == 2)


HONORIFICS = tuple(
    sorted(
        (
            "先生 女士 小姐 师傅 老师 阿姨 大姐 大哥 姐姐 哥哥 叔叔 阿叔 大叔 大爷 大妈 奶奶 爷爷 同志 科长 副科长 主任 副主任 处长 局长 副局长 经理 所长 站长 队长 书记 部长 "
            "院长 组长 股长 老板 医生 大夫 护士 警官 律师 专员 馆长 厂长 主管 总监 姐 哥"
        ).split(),
        key=len,
        reverse=True,
    )
)
# Characters that do not fill a given name: function words, measure words, places, units, verbs of errands.
_NOT_IN_GIVEN_NAME = frozenset(
    "了的是在不也都就把被和跟说很太让给我你他她们这那有没么吗呢啊吧呀哦嘛个次趟号年日时分秒点区路街巷"
    "市省县局科处厅所院站场馆要会能得着过去来上下里外前后多少几些每各该此其与及或并而之以于对从向往到"
    "办查问等找拿交跑排叫打开关看写填签人员者处电话机号码样转"
)
_PLACE_END = frozenset("区路街巷村镇乡县市省州井界庄站场馆局厅处所院店司厂府苑港湾岛寺庙宫楼坊屯堡桥口")
_PLACE_NEXT = re.compile(
    r"^(?:小区|社区|村|组|街道|大道|路|街|巷|镇|乡|县|市|区|省|广场|公园|花园|大厦|新村|片区|学校|小学|中学|"
    r"医院|机场|车站|山|湖|江|河|桥|湾|坪|冲|岭|塘|垸|洲|寺|庙|景区|公司|集团|银行|超市|商场|酒店|宾馆)"
)
_PLACE_TAIL = frozenset("山湾坪冲湖村巷桥岭塘坡庄垸屋台沟岗港洲")
_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
# Right before a person: the roles people write about and the verbs that take a person.
_CUE_BEFORE = re.compile(
    r"(?:工作人员|窗口人员|经办人员?|办理人|受理人|办事员|审核员|导办员|帮办员|联系人|申请人|代办人|负责人|"
    r"反映人|投诉人|诉求人|来电人|评价人|当事人|姓名|名字|名叫|叫做|我叫|我是|本人|找了?|问了?|谢谢|感谢|"
    r"表扬|点赞|投诉|举报|我爸爸?|我妈妈?|母亲|父亲|家属|朋友|丈夫|老公|老婆|妻子|儿子|女儿|其子|其女|"
    r"亲戚|邻居|同事|同学|窗口的|大厅的|窗口里的|志愿者|市民|群众|居民|村民)[：:\s]*$"
)
# Right after a person: what people do or are called in a complaint (strong), how they are reached, and
# words that follow a person as often as anything else (weak: enough only where jieba saw a name).
_VERB_AFTER = re.compile(
    r"^[，,、]?(?:帮|说|讲|告诉|让我|叫我|给我|态度|服务|接待|代办|不耐烦|耐心|热情|同志|一直|玩手机|解释|推|拒绝|"
    r"答应|签字|负责|不在|下班|请假|告知|指导|主动|称|反映|表示|查了|办事|主任|科长|不理|接了|打印|讲解|"
    r"很耐心|很热情|很专业|很负责|不耐|态度|来电|来信|来访)"
)
_CONTACT_AFTER = re.compile(r"^[，,、：:\s]?(?:电话|手机|微信|TEL|Tel|tel|的电话|联系|[（(]?\d)")
_WEAK_AFTER = frozenset("，,。！!？?、；; ")
# a dictionary word this common (谢谢, 文明, 白雪) is a word, not a name, without a cue
_COMMON_WORD_FREQ = 200

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _posseg():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    with _lock:
        jieba.dt.check_initialized()
    return jieba.posseg.dt, jieba.dt.FREQ


def _tokens(text: str) -> list[tuple[int, int, str, str]]:
    tagger, _ = _posseg()
    out, pos = [], 0
    for pair in tagger.cut(text, HMM=True):
        start = text.find(pair.word, pos)
        if start < 0:
            continue
        pos = start + len(pair.word)
        out.append((start, pos, pair.word, pair.flag))
    return out


def _surname_len(word: str) -> int:
    single, compound = surnames()
    if word[:2] in compound:
        return 2
    if word[:1] in single:
        return 1
    return 0


def _plausible_name(word: str) -> bool:
    n = _surname_len(word)
    given = word[n:]
    if not n or not 1 <= len(given) <= 2:
        return False
    if any(c in _NOT_IN_GIVEN_NAME or not "\u4e00" <= c <= "\u9fff" for c in given):
        return False
    if len(given) == 2 and given[0] == "家" and given[1] in _PLACE_TAIL:  # 杨家山, 张家湾
        return False
    if given[-1] == "一":  # 管一管, 钱一样; 一 begins given names (一帆), it does not end them
        return False
    return word[-1] not in _PLACE_END


def _known_names(text: str, names):
    for name in {n.strip() for n in names if n and len(n.strip()) >= 2}:
        for m in re.finditer(re.escape(name), text):
            yield Span(m.start(), m.end(), "name", NAME_MASK)


_CUT_VERBS = frozenset("找问叫给和跟让向对被是请谢帮见爸妈")
_SURNAME_ONLY = re.compile(r"(?:我|本人|他|她|对方|那人)姓(?=(.{1,2}?)(?:[，。,.！!、；;\s]|$))")


class _Sentence:
    """A text with its jieba tokens, to ask where words begin and end and what jieba made of them."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.starts = {t[0]: t for t in self.tokens}
        self.ends = {t[1] for t in self.tokens}
        self.tagger, self.freq = _posseg()

    def token_at(self, i: int):
        for t in self.tokens:
            if t[0] <= i < t[1]:
                return t
        return None

    def is_word(self, word: str) -> bool:
        return self.freq.get(word, 0) > 0

    def begins_here(self, i: int) -> bool:
        """A name may begin at a token start, or cut a token made of a verb and the surname (找钱/美玲)."""
        if i in self.starts:
            return True
        t = self.token_at(i)
        return t is not None and (self.text[t[0] : i][-1:] in _CUT_VERBS or not self.is_word(t[2]))

    def person_token(self, begin: int, end: int) -> bool:
        """Whether jieba tagged text[begin:end] as a person, whole or as surname + given name."""
        t = self.starts.get(begin)
        if t is None:
            return False
        if t[1] == end:
            return t[3] in _PERSON_TAGS or not self.is_word(t[2])
        nxt = self.starts.get(t[1])
        return (
            _surname_len(t[2]) == len(t[2])
            and nxt is not None
            and nxt[1] == end
            and nxt[2] not in HONORIFICS
            and (nxt[3] in _PERSON_TAGS or not self.is_word(nxt[2]))
        )


def _names(text: str):
    if not any("\u4e00" <= c <= "\u9fff" for c in text):
        return
    sentence = _Sentence(text)
    for i, (start, _end, word, _flag) in enumerate(sentence.tokens):
        honorific = next((h for h in HONORIFICS if word.endswith(h)), None)
        if honorific:
            yield from _before_honorific(sentence, i, start + len(word) - len(honorific))
    for m in _SURNAME_ONLY.finditer(text):
        if _surname_len(m.group(1)) == len(m.group(1)):
            yield Span(m.start(1), m.end(1), "name", "某")
    yield from _familiar(sentence)
    for p in range(len(text)):
        n = _surname_len(text[p : p + 2])
        if not n or not sentence.begins_here(p):
            continue
        for g in (2, 1):
            end = p + n + g
            if end > len(text) or end not in sentence.ends or not _plausible_name(text[p:end]):
                continue
            if any(text.startswith(h, p + n) for h in HONORIFICS):
                break
            if _is_name(sentence, p, end):
                yield Span(p, end, "name", NAME_MASK)
                break


# Surnames that are also measure words: after 这/那/一/两/几 … or a digit they count things (这张卡, 一张表).
_MEASURE_SURNAMES = frozenset("张支条台份项")
_COUNTED_BEFORE = re.compile(r"[这那哪每各一二两三四五六七八九十几数0-9]$")


def _is_name(sentence: _Sentence, begin: int, end: int) -> bool:
    text, word = sentence.text, sentence.text[begin:end]
    after = text[end:]
    if word[0] in _MEASURE_SURNAMES and _COUNTED_BEFORE.search(text[:begin]):
        return False  # 这张卡, 两张表
    if _PLACE_NEXT.match(after):
        return False
    nxt = sentence.starts.get(end)
    if nxt is not None and len(nxt[2]) >= 2 and nxt[2][-1] in _PLACE_END and sentence.is_word(nxt[2]):
        return False  # 贺龙体育馆, 雷锋纪念馆
    before_cue = bool(_CUE_BEFORE.search(text[max(0, begin - 8) : begin]))
    verb_after = bool(_VERB_AFTER.match(after))
    contact_after = bool(_CONTACT_AFTER.match(after))
    tag = sentence.token_at(begin)[3]
    rare_proper_noun = tag in ("ns", "nz") and sentence.freq.get(word, 0) < 50  # 高建国/ns
    if sentence.is_word(word) and tag not in _PERSON_TAGS and not rare_proper_noun:
        return before_cue and (verb_after or contact_after)  # 程序, 银行, 高兴: words first
    if sentence.is_word(word) and sentence.freq[word] >= _COMMON_WORD_FREQ:  # 白雪, 汪洋, 谢谢
        return verb_after or (before_cue and (contact_after or not after or after[:1] in _WEAK_AFTER))
    return sentence.person_token(begin, end) or before_cue or verb_after or contact_after


def _ordinary_word(sentence: _Sentence, word: str) -> bool:
    """A dictionary word that is not a person (保安 in 保安大哥)."""
    if not sentence.is_word(word):
        return False
    tag = sentence.tagger.word_tag_tab.get(word)
    return tag not in _PERSON_TAGS or sentence.freq[word] >= _COMMON_WORD_FREQ


def _familiar(sentence: _Sentence):
    """小王, 老李: a surname after 小/老, said of a person (小时, 老师, 小于 are words)."""
    text = sentence.text
    for m in re.finditer(r"[小老](.)", text):
        if _surname_len(m.group(1)) != 1 or (
            sentence.is_word(m.group(0)) and not sentence.person_token(m.start(), m.end())
        ):
            continue
        after = text[m.end() :]
        if (
            _CUE_BEFORE.search(text[max(0, m.start() - 8) : m.start()])
            or _VERB_AFTER.match(after)
            or _CONTACT_AFTER.match(after)
            or (
                sentence.person_token(m.start(), m.end())
                and (not after or after[:1] in _WEAK_AFTER or after.startswith(("很", "非常", "特别")))
            )
        ):
            yield Span(m.start(1), m.end(), "name", "某")


def _before_honorific(sentence: _Sentence, i: int, at: int):
    """The name right before an honorific at offset `at` (王先生, 陈师傅, 欧阳女士, 钱美玲女士)."""
    text, tokens = sentence.text, sentence.tokens
    start_tok = tokens[i][0]
    if at > start_tok:  # the honorific is inside the token: 王先生, 李老师
        word = text[start_tok:at]
        if _surname_len(word) == len(word) or _plausible_name(word):
            yield Span(start_tok, at, "name", "某")
        return
    for length in (4, 3, 2, 1):
        begin = at - length
        if begin < 0:
            continue
        word = text[begin:at]
        if not (_surname_len(word) == len(word) or _plausible_name(word)):
            continue
        surname_only = _surname_len(word) == len(word)
        if sentence.begins_here(begin) and (surname_only or not _ordinary_word(sentence, word)):
            yield Span(begin, at, "name", "某")
            return
