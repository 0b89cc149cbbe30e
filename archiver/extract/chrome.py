"""Removing page chrome (everything around and inside a body that is not the article).

Publishers wrap an article in lists of other headlines, newsletter boxes, share bars,
players, ad slots, bios and banners, and often drop them *between* the paragraphs of the
body. trafilatura removes much of it, but not all, and a single chrome sentence left in a
body makes an unchanged article look edited when the chrome changes. So we clean the
parsed tree before trafilatura sees it, in three general ways that need no per-site rule:

1. by *name*: class/id/role/aria-label tokens that name chrome ("related", "newsletter",
   "share", "paywall", "author-bio", "ad-slot", ...);
2. by *text*: short blocks whose words say what they are ("Related Articles", "Read more:",
   "Sign up for our newsletter", "Advertisement", "0:00 0:00 Close"), which also works
   where class names are hashed by CSS-in-JS and mean nothing;
3. by *shape*: a heading like "More from X" over a block that is mostly links.

Every removal is guarded: an element that holds a large share of the page's paragraph
text is never removed by name (``<body class="has-newsletter">``, ``<div
class="article-body share-enabled">``). After trafilatura, :func:`clean_text` drops
remaining chrome lines and repeated boxes at the text level.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

# Tags we never remove by class name: they are the page or the article itself.
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article"})

# Class/id/role words that name chrome. Matched against the lowercased attribute values
# split on anything that is not a letter or digit, so "related-articles", "relatedArticles"
# (lowercased to "relatedarticles") and "rel_articles" are all seen; short words like "ad"
# must be a whole token, never a substring ("header", "read", "shadow").
_CHROME_NAME = re.compile(
    r"""(?x)
    (?:^|[^a-z0-9])(?:
        related|relatedarticles?|relatedposts?|relatedstories|recommend(?:ed|ations?)?
      | mostread|most-read|mostpopular|popular|trending|morefrom|more-from|readnext|read-next
      | outbrain|taboola|zergnet|revcontent
      | newsletters?|newsletter-?signup|subscribe|subscription|signup|sign-up|promo|promotions?
      | paywall|regwall|piano|tp-modal|meter(?:ed)?|gate|premium-?gate|subscriber-?only
      | author-?bio|authorbio|bio|about-?the-?author|author-?info|contributor-?bio
      | share|sharing|sharebar|share-?tools|social-?(?:share|links|icons?|buttons?|follow|bar)|sociallinks
      | sidebar|side-?bar|right-?rail|left-?rail
      | audio-?player|player-?controls|media-?controls|podcast-?player|jwplayer|video-?player
      | cookie|cookies|consent|gdpr|cmp
      | comments?|comment-?section|disqus|respond
      | ad|ads|adv|advert|advertisement|adslot|ad-?slot|ad-?container|ad-?wrapper|dfp|gpt-?ad
      | sponsored|sponsor|native-?ad
      | werbung|anzeige|publicite|publicidad|pubblicita|publicidade|reklama|advertentie
      | verwandte?|gerelateerd|relacionad[oa]s?|correlati|connexes|powiazane
      | tags|tag-?list|taglist|keywords|breadcrumbs?|breadcrumb
      | print-?only|sr-only|visually-?hidden|screen-?reader
    )(?:$|[^a-z0-9])
    """
)
_CONTENT_NAME = re.compile(r"article|content|body|story|post|entry|main|text|page|wrap|container")
# Inline elements carrying these names are only removed when they are blocks: a
# <span class="share"> inside a paragraph is not worth the risk.
_BLOCK_TAGS = frozenset(
    {"div", "section", "aside", "ul", "ol", "li", "p", "span", "form", "figure", "nav",
     "header", "footer", "table", "dl", "iframe", "button", "a", "font", "td"}
)
# Tags that are chrome whatever their class: players, forms, navigation.
_CHROME_TAGS = ("nav", "form", "button", "audio", "video", "iframe", "noscript", "dialog",
                "select", "input", "svg")

# The few things only words reveal, beyond English: "read also" inserts, list headings,
# ad labels, newsletter boxes and comment headers, in the languages publishers write in.
# Everything else (teaser boxes, link lists, live widgets) is found by shape, not words.
_READ_ALSO = (
    r"lesen\s+sie\s+(?:auch|mehr|hier)|mehr\s+zum\s+thema|auch\s+interessant|das\s+könnte\s+sie"
    r"\s+(?:auch\s+)?interessieren|(?:à\s+)?lire\s+(?:aussi|également|la\s+suite)|voir\s+aussi"
    r"|sur\s+le\s+même\s+sujet|leer\s+más|lea\s+(?:también|además)|(?:le|te)\s+puede\s+interesar"
    r"|ver\s+también|leia\s+(?:também|mais)|veja\s+também|saiba\s+mais|leggi\s+anche"
    r"|potrebbe\s+interessarti|lees\s+ook|lees\s+meer|czytaj\s+(?:też|także|również|więcej)"
    r"|zobacz\s+(?:też|także|również)|читайте\s+(?:также|ещё|еще)|смотрите\s+также"
    r"|إ?اقرأ\s+(?:أيضا|أيضاً|أيضًا|ايضا|المزيد)|إقرأ\s+(?:أيضا|أيضاً|ايضا)"
    r"|関連記事|関連ニュース|あわせて読みたい|相关阅读|相關閱讀|相关文章|相關文章|相关新闻|相關新聞"
    r"|延伸阅读|延伸閱讀|推荐阅读|관련\s*기사|관련\s*뉴스"
)
_MOST_READ = (
    r"meistgelesen|meist\s+gelesen|top-?themen|les\s+plus\s+lus|les\s+plus\s+populaires"
    r"|lo\s+más\s+(?:leído|visto)|más\s+leídas?|(?:i\s+)?più\s+letti|mais\s+lidas"
    r"|meest\s+gelezen|najczęściej\s+czytane|самое\s+(?:читаемое|популярное)|популярное"
    r"|الأكثر\s+(?:قراءة|مشاهدة)|人気記事|アクセスランキング|热门文章|熱門文章|排行榜|많이\s*본\s*뉴스"
)
_AD_LABEL = (
    r"anzeige|werbung|publicité|publicidad|pubblicità|publicidade|advertentie|reclame|reklama"
    r"|реклама|إعلان|広告|スポンサーリンク|广告|廣告|광고"
)
_COMMENTS_WORD = (
    r"kommentare|commentaires|comentarios|commenti|comentários|reacties|komentarze"
    r"|комментарии|التعليقات|コメント|评论|評論|댓글"
)
_NEWSLETTER_WORD = (
    r"newsletter|nieuwsbrief|boletín|рассылк|النشرة|ニュースレター|メルマガ|电子报|電子報|뉴스레터"
)
# "... delivered to your inbox": the pitch under a newsletter box's heading.
_INBOX = (
    r"in\s+ihr(?:en)?\s+(?:e-?mail-?)?postfach|dans\s+votre\s+boîte|en\s+tu\s+(?:bandeja|correo)"
    r"|en\s+su\s+(?:bandeja|correo)|nella\s+tua\s+(?:casella|inbox|email)|na\s+sua\s+caixa"
    r"|in\s+je\s+(?:inbox|mailbox)|na\s+(?:twoją|swoją)\s+skrzynkę|на\s+(?:вашу\s+|свою\s+)?почту"
    r"|إلى\s+بريدك"
)
_SUBSCRIBE_WORD = (
    r"sign\s+up|subscribe|abonnieren|anmelden|abonnez|inscri(?:vez|bete|bite|ba|ção)|suscr[ií]b"
    r"|iscriviti|assine|inscreva|schrijf|meld\s+je|zapisz|subskryb|подпиш|اشترك|登録|订阅|訂閱|구독"
)

# Short blocks that announce chrome. Anchored: the block must *start* (or be) this text.
_CHROME_TEXT = re.compile(
    r"""(?ix)^\s*(?:
        (?:read|see)\s+(?:more|also|next)\s*[:|»>›-]
      | related(?:\s+(?:articles?|stories|posts|coverage|content|reading|links))?\s*[:|»>›-]
      | also\s+(?:on|read|see)\b
      | more\s+(?:on|from)\b.{0,60}$
      | (?:most\s+(?:read|popular|viewed|shared)|trending(?:\s+now)?|recommended(?:\s+for\s+you)?|you\s+may\s+(?:also\s+)?like|read\s+next|up\s+next|editor'?s\s+picks?|top\s+stories)\s*$
      | related\s+(?:articles?|stories|posts|coverage|content|reading|links)\s*$
      | advertisement\s*$|ad\s*$|sponsored(?:\s+content)?\s*$|story\s+continues\s+below\b.{0,40}$
      | (?:sign\s+up|subscribe)\b.{0,120}\b(?:newsletters?|inbox|e-?mails?)\b.{0,120}$
      | get\s+(?:the\s+latest|our|the\s+best)\b.{0,80}\b(?:inbox|newsletters?|delivered)\b.{0,80}$
      | .{0,200}\b(?:delivered|sent|straight|directly)\s+(?:\w+\s+)?to\s+your\s+inbox\b.{0,60}$
      | (?:like\s+this\s+story|enjoy(?:ed)?\s+this\s+(?:story|article))\?.{0,80}$
      | share\s+(?:this|on)\b.{0,60}$
      | follow\s+us\s+on\b.{0,80}$
      | have\s+a\s+(?:news\s+)?tip\?.{0,200}$
      | (?:click|tap)\s+(?:here\s+)?to\s+(?:subscribe|sign\s+up|share|comment)\b.{0,80}$
      | (?:comments?|\d+\s+comments?|leave\s+a\s+(?:comment|reply)|join\s+the\s+(?:conversation|discussion)|tell\s+us\s+what\s+you\s+think)\W*$
      | this\s+(?:website|site)\s+uses\s+cookies\b.{0,200}$
      | we\s+use\s+cookies\b.{0,200}$
      | (?:\d{1,2}:\d{2}\s*(?:/\s*)?){1,3}(?:close)?\s*$
      | (?:tags?|tagged|topics?|filed\s+under|categories)\s*:.{0,200}$
      | close\s*$|×\s*$|skip\s+(?:ad|to\s+(?:main\s+)?content)\s*$
      | subscribe(?:\s+to\s+.{1,60})?\s*$|subscribe\s*(?:&|and)\s*save\s*$|sign\s+up\s*$|newsletters?\s*$
      | (?:READ_ALSO)\s*(?:[:|»>›–—-].{0,200})?$
      | (?:MOST_READ|AD_LABEL|COMMENTS_WORD)\W*\d*\W*$
    )""".replace("READ_ALSO", _READ_ALSO).replace("MOST_READ", _MOST_READ)
    .replace("AD_LABEL", _AD_LABEL).replace("COMMENTS_WORD", _COMMENTS_WORD)
    .replace("NEWSLETTER_WORD", _NEWSLETTER_WORD),
)
_READ_ALSO_START = re.compile(rf"(?i)^\s*(?:{_READ_ALSO})")
# Labels of a box that is chrome as a whole: the text under them (a newsletter pitch, an
# ad's filler) says nothing a phrase list could know, so the box goes with its label.
_AD_ONLY = re.compile(rf"(?i)^\s*(?:{_AD_LABEL}|advertisement|sponsored)\W*$")
# Newsletter boxes in any of those languages: a newsletter word and a subscribe verb in
# a short block, or the "to your inbox" pitch. Searched for, not matched from the start
# with a leading ".{0,n}": the regex engine skips to the words' first letters.
_NEWSLETTER = re.compile(rf"(?i){_NEWSLETTER_WORD}|newsletters?\b")
_SUBSCRIBE = re.compile(rf"(?i){_SUBSCRIBE_WORD}")
_INBOX_PITCH = re.compile(rf"(?i)(?:{_INBOX})\b")
_NEWSLETTER_OR_INBOX = re.compile(rf"(?i){_NEWSLETTER_WORD}|newsletters?\b|(?:{_INBOX})\b")
_NEWSLETTER_MAX = 220


def _is_newsletter(text: str) -> bool:
    """A newsletter box's heading or pitch (short: an article may mention a newsletter)."""
    if len(text) > _NEWSLETTER_MAX:
        return False
    found = _NEWSLETTER_OR_INBOX.search(text)
    if found is None:
        return False
    if _INBOX_PITCH.match(found.group()):
        return True
    found = _NEWSLETTER.search(text)
    return found is not None and found.start() <= 60 and _SUBSCRIBE.search(text) is not None


def _is_box_label(text: str) -> bool:
    """A label whose box is chrome as a whole: an ad label, a newsletter call."""
    return _AD_ONLY.match(text) is not None or (
        _NEWSLETTER.search(text) is not None and _is_newsletter(text)
    )
# Longest block the text rules may remove: chrome announcements are short.
_CHROME_TEXT_MAX = 320
# Block-level only: an inline <a>Subscribe</a> may be a word of an article sentence.
_TEXT_RULE_TAGS = ("p", "div", "span", "h2", "h3", "h4", "h5", "h6", "li", "aside", "section",
                   "figcaption", "header", "footer", "time", "small")
_TEXT_AND_BOX_TAGS = (*_TEXT_RULE_TAGS, "ul", "ol")
# Inline tags among them: a widget there is chrome only when it stands apart from any
# sentence (<span>3 hours ago</span> may be the end of one).
_INLINE_TAGS = frozenset({"span", "time", "small"})

# Headings that introduce a list of other content rather than part of the article.
_LIST_HEADING = re.compile(
    r"""(?ix)^\s*(?:
        related(?:\s+\w+){0,2}|more\s+(?:from|on|in|stories|news|articles|to\s+explore)\b.{0,50}
      | more\s+(?:\S+\s+){0,4}(?:stories|articles|news|reads|videos|coverage)
      | (?:most\s+(?:read|popular|viewed|shared)|trending|recommended|popular)(?:\s+\w+){0,3}
      | you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy)\b.{0,30}|read\s+(?:next|more)|up\s+next
      | (?:latest|top)\s+(?:news|stories|headlines|videos?)|editor'?s\s+picks?|don'?t\s+miss
      | (?:around|elsewhere)\s+(?:the\s+web|on\s+.{1,30})|from\s+(?:the\s+web|our\s+partners)
      | READ_ALSO|MOST_READ
    )\W*$""".replace("READ_ALSO", _READ_ALSO).replace("MOST_READ", _MOST_READ)
)

# Live widgets: relative times, counters and reading times that change between visits of
# an unchanged article ("Updated 3 hours ago · 1200 readers · 40 comments", "vor 3
# Stunden", "il y a 2 heures", "5 min read", "1,2K shares"). A text is a widget when it is
# made of nothing else: its atoms, a few labels ("Updated", "Aktualisiert"), digits and
# separators. A sentence with numbers always keeps other words, so it is never one.
_NUM = r"(?:\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+|\d+(?:[.,]\d+)?)\s?(?:[kKmM]\b|тыс\.?|万|천|만)?\+?"
_UNITS = (  # relative-time units, longest first where one is a prefix of another
    r"seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?"
    r"|[smhdwy]"
)
_WIDGET_ATOM = re.compile(
    r"""(?ix)(?:
        (?:NUM|an?|one|a\s+few)\s*(?:UNITS)\.?\s+ago
      | just\s+now|moments?\s+ago
      | vor\s+(?:NUM|einer?|einem|wenigen)\s*(?:sekunden?|sek|minuten?|min|stunden?|std|h
            |tag(?:en)?|wochen?|monat(?:en)?|jahr(?:en)?)\.?
      | gerade\s+eben
      | il\s+y\s+a\s+(?:NUM|une?|quelques)\s*(?:secondes?|s|minutes?|min|heures?|h|jours?|j
            |semaines?|mois|ans?)
      | à\s+l'instant
      | hace\s+(?:NUM|una?|unos|unas)\s*(?:segundos?|s|minutos?|min|horas?|h|días?|d
            |semanas?|mes(?:es)?|años?)
      | (?:NUM|un[oa]?|un')\s*(?:secondi|secondo|minuti|minuto|min|ore|ora|h|giorni|giorno
            |settimane|settimana|mesi|mese|anni|anno)\s+fa
      | há\s+(?:NUM|uma?)\s*(?:segundos?|minutos?|min|horas?|h|dias?|semanas?|mês|meses|anos?)
      | NUM\s*(?:segundos?|minutos?|min|horas?|h|dias?)\s+atrás
      | (?:NUM|een)\s*(?:seconden?|sec|minuten?|minuut|min|uur|uren|u|dagen?|weken?|week
            |maanden?|maand|jaren?|jaar)\s+geleden
      | (?:NUM\s*)?(?:sekund[aey]?|minut[aęy]?|min|godzin[aęy]?|godz|dni|dzień|tygodni[ea]?
            |tydzień|miesiące|miesięcy|miesiąc|lat[a]?|rok)\.?\s+temu
      | (?:NUM\s*)?(?:секунд[уы]?|сек|минут[уы]?|мин|час(?:а|ов)?|ч|дн(?:я|ей)|день|недел[юиь]
            |месяц(?:а|ев)?|год(?:а)?|лет)\.?\s+назад
      | منذ\s+(?:NUM\s*)?(?:ثوان[ي]?|ثانية|دقيقة|دقائق|دقيقتين|ساعة|ساعات|ساعتين|يوم|أيام
            |يومين|أسبوع|أسابيع|شهر|أشهر|سنة|سنوات)
      | NUM\s*(?:秒|分|分钟|分鐘|時間|小时|小時|日|天|週間|周|週|か月|ヶ月|个月|個月|年)前
      | 刚刚|剛剛|たった今
      | NUM\s*(?:초|분|시간|일|주|개월|달|년)\s*전|방금
      # reading times, number first or label first
      | NUM\s*(?:-\s*NUM\s*)?(?:minutes?|mins?|minuten|minutos?|minuti|minut|минут[ыу]?|мин
            |دقائق|دقيقة)\.?\s*(?:read|reading|lesezeit|lesedauer|lesen|de\s+lecture
            |de\s+lectura|di\s+lettura|de\s+leitura|leestijd|lezen|czytania|чтения|قراءة)
      | (?:reading\s+time|read\s+time|lesezeit|lesedauer|temps\s+de\s+lecture|lecture
            |tiempo\s+de\s+lectura|lectura|tempo\s+di\s+lettura|lettura|tempo\s+de\s+leitura
            |leitura|leestijd|czas\s+czytania|время\s+чтения|مدة\s+القراءة|وقت\s+القراءة)
            \s*:?\s*(?:ca\.?\s*)?NUM\s*(?:minutes?|mins?|minuten|minutos?|minuti|minut|минут[ыу]?
            |мин|دقائق|دقيقة)?\.?
      | 読了時間\D{0,3}NUM\s*分|NUM\s*分で読めます|阅读时间\D{0,3}NUM\s*分钟?|NUM\s*분\s*(?:읽기|소요)
      # counters, number first or label first
      | NUM\s*(?:readers?|reads|views?|comments?|shares?|likes?|replies|reactions?|claps?
            |responses?|leser(?:innen)?|kommentare?|aufrufe|mal\s+(?:gelesen|geteilt)
            |reaktionen|lecteurs?|commentaires?|vues|partages|réactions?|lectures?|lectores
            |comentarios?|vistas|visitas|lecturas|compartidos|reacciones|lettori|commenti
            |visualizzazioni|letture|condivisioni|reazioni|leitores|comentários?|visualizações
            |leituras|partilhas|compartilhamentos|lezers|reacties|weergaven
            |keer\s+(?:bekeken|gelezen|gedeeld)|komentarz(?:y|e|a)?|wyświetle(?:ń|nia)
            |odsłon|czytelnik(?:ów|a)?|udostępnie(?:ń|nia)|комментари(?:й|я|ев)
            |просмотр(?:ов|а)?|читател(?:ей|я|ь)|прочтени(?:й|я)|репост(?:ов|а)?
            |تعليق(?:ات|ا)?|مشاهدة|مشاهدات|قراءة|قراءات|مشاركة|مشاركات)(?!\w)
      | NUM\s*(?:件のコメント|コメント|回閲覧|ビュー|PV|条评论|人阅读|次阅读|次浏览|阅读|浏览|評論|閱讀
            |명\s*읽음|회\s*조회|개의\s*댓글)
      | (?:comments?|views?|shares?|readers?|kommentare|leser|aufrufe|commentaires|vues
            |comentarios|vistas|commenti|comentários|reacties|komentarze|комментарии
            |просмотры|التعليقات|المشاهدات|コメント|閲覧数|评论|阅读|浏览|評論|閱讀|댓글|조회수?|공유)
            \s*[:(\[]?\s*NUM\s*[)\]]?
      # "today, 12:30": a live date, tomorrow it says "yesterday"
      | (?:today|yesterday|heute|gestern|aujourd'hui|hier|hoy|ayer|oggi|ieri|hoje|ontem
            |vandaag|gisteren|dzisiaj|dziś|wczoraj|сегодня|вчера|اليوم|أمس|今日|昨日|今天|昨天
            |오늘|어제)\s*,?\s*(?:at|um|à|a\s+las|alle|às|om|o|в)?\s*\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?
    )""".replace("NUM", _NUM).replace("UNITS", _UNITS)
)
# Words a widget line may hold besides its atoms.
_WIDGET_LABEL = re.compile(
    r"""(?ix)(?<!\w)(?:(?:last\s+)?(?:updated|published|posted|modified|edited)(?:\s+on|\s+at)?
      | (?:zuletzt\s+)?aktualisiert(?:\s+am|\s+um)?|veröffentlicht(?:\s+am)?|stand
      | mis\s+à\s+jour(?:\s+le)?|publié(?:\s+le)?|modifié(?:\s+le)?
      | actualizado|publicado|modificado|aggiornato|pubblicato|atualizado|em
      | bijgewerkt|gepubliceerd|geüpdatet|zaktualizowano|aktualizacja|opublikowano
      | обновлено|опубликовано|آخر\s+تحديث|تحديث|نشر|更新|公開|発行|发布|發佈|업데이트|입력|수정
      | today|yesterday|heute|gestern|aujourd'hui|hier|hoy|ayer|oggi|ieri|hoje|ontem|vandaag
      | gisteren|dzisiaj|dziś|wczoraj|сегодня|вчера|اليوم|أمس|今日|昨日|今天|昨天|오늘|어제
      | am|um|on|at|le|el|il|à|a\s+las|alle|às|om|o|в|uhr)(?!\w)"""
)
_LETTER = re.compile(r"[^\W\d_]")
_WIDGET_MAX = 160
# What every widget holds, a digit or a word of a relative time without one ("an hour
# ago"): a cheap test that spares the long grammar the menus and headings of a page.
_WIDGET_HINT = re.compile(
    r"(?i)\d|ago|vor\s|il\s+y\s+a|hace|\sfa\b|há|geleden|temu|назад|منذ|前|전|刚刚|剛剛|たった今|방금"
)
# A whole widget: atoms, labels and bare numbers ("12:30") between separators. Matched
# from the start (fullmatch) rather than searched: on the many texts that are no widget
# it fails at the first word, where a search would try every atom at every position.
# Atomic groups and possessive repeats: no backtracking, so never slow on digit runs.
_WIDGET_TEXT = re.compile(
    r"(?ix)[\W_]*+(?:(?>" + _WIDGET_ATOM.pattern.removeprefix("(?ix)") + "|"
    + _WIDGET_LABEL.pattern.removeprefix("(?ix)") + r"|\d+(?:[:.,/-]\d+)*)[\W_]*+)++"
)
# Separators between the parts of a meta line ("By Jane Doe · 3 hours ago").
_META_SEPARATOR = re.compile(r"\s*[·•‧・|]\s*")


@lru_cache(maxsize=4096)
def is_live_widget(text: str) -> bool:
    """Whether ``text`` is nothing but relative times, counters and reading times (with
    labels, digits and separators): a widget whose text changes while the article does
    not."""
    if len(text) > _WIDGET_MAX or not _WIDGET_HINT.search(text) or not _LETTER.search(text):
        return False
    return _WIDGET_TEXT.fullmatch(text) is not None and _WIDGET_ATOM.search(text) is not None


def _without_widgets(line: str) -> str:
    """``line`` without the parts of a meta line that are widgets ("By Jane Doe · 3 hours
    ago · 40 comments" -> "By Jane Doe"); the line itself when it has no such parts."""
    if len(line) > 2 * _WIDGET_MAX or not _META_SEPARATOR.search(line):
        return line
    parts = _META_SEPARATOR.split(line)
    kept = [part for part in parts if part and not is_live_widget(part)]
    if len(kept) == len([part for part in parts if part]):
        return line
    return " · ".join(kept)

def _name_of(el: HtmlElement) -> str:
    """``el``'s class, id, role, aria-label and data-component, lowercased, in one string."""
    get = el.get  # one f-string: this runs for every block of the page
    return (
        f"{get('class') or ''} {get('id') or ''} {get('role') or ''} "
        f"{get('aria-label') or ''} {get('data-component') or ''}"
    ).lower()


@lru_cache(maxsize=4096)
def _is_chrome_name(name: str) -> bool:
    """Whether ``name`` (see :func:`_name_of`) names chrome.

    Cached: a page repeats a few hundred class lists over and over ("menu-item", "col-md-4"),
    templates repeat across a site's pages, and the long alternation is slow to search.
    """
    return _CHROME_NAME.search(name) is not None


@lru_cache(maxsize=4096)
def _text_kind(text: str) -> tuple[bool, bool]:
    """Whether a block's text (whitespace collapsed) is a list heading, and whether it
    announces chrome.

    Cached: menus, footers and boxes repeat their short texts on a page and across a
    site's pages, and _CHROME_TEXT is slow to fail on text that is not chrome.
    """
    return _LIST_HEADING.match(text) is not None, _is_chrome_line(text)


def _is_chrome_line(text: str) -> bool:
    """Whether a short block or line of text announces chrome by its words."""
    return _CHROME_TEXT.match(text) is not None or _is_newsletter(text)


def _text_of(el: HtmlElement) -> str:
    """``el.text_content()``, twice as fast: libxml2 serialises the same text (the element's
    content, without comments) directly, with no XPath evaluation around it."""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


def _para_chars(el: HtmlElement) -> int:
    """Characters in the substantial paragraphs under ``el``: a proxy for article text."""
    total = 0
    for p in el.iter("p"):
        n = len(_text_of(p))
        if n > 80:
            total += n
    return total


def _drop(el: HtmlElement) -> None:
    """Remove ``el`` but keep its tail text (which belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def body_paragraph_chars(root: HtmlElement) -> int:
    """Characters of substantial paragraphs on the whole page (the guard's reference)."""
    return _para_chars(root)


def remove_chrome(
    root: HtmlElement,
    keep: set[HtmlElement] | None = None,
) -> None:
    """Remove chrome from ``root`` in place.

    Args:
        root: the parsed page.
        keep: elements (and their ancestors/descendants) that must survive, e.g. those
            matched by a source's ``keep`` selectors.
    """
    keep = keep or set()
    protected: set[HtmlElement] = set()
    for el in keep:
        protected.update(el.iterancestors())
        protected.add(el)
    page_chars = max(_para_chars(root), 1)

    def is_kept(el: HtmlElement) -> bool:
        if el in protected:
            return True
        return any(anc in keep for anc in el.iterancestors()) if keep else False

    # Structural chrome first: players, forms, nav...
    for el in list(root.iter(_CHROME_TAGS)):
        if is_kept(el):
            continue
        if el.tag == "form" and _para_chars(el) > 0.3 * page_chars:
            continue  # ASP.NET pages wrap the whole page in one <form>
        _drop(el)

    # Embedded tweets are quotes of the article, not social chrome: keep their text
    # visible to trafilatura, which would otherwise drop them by class name.
    for el in root.iter("blockquote"):
        if "tweet" in (el.get("class") or ""):
            del el.attrib["class"]
            parent = el.getparent()
            if parent is not None and re.search(r"embed|social", parent.get("class") or ""):
                del parent.attrib["class"]

    # By name. Protected tags are not block tags: lxml's tag filter skips them, and the
    # inline elements, before making Python proxies. The list keeps the blocks' proxies
    # alive until the end, so the text rules' walk below reuses most of them instead of
    # making new ones (an allocation and an element-class lookup each).
    blocks = list(root.iter(_BLOCK_TAGS))
    to_drop = []
    for el in blocks:
        name = _name_of(el)
        if _is_chrome_name(name):
            to_drop.append((el, name))
    dropped: set[HtmlElement] = set()
    for el, name in to_drop:
        # Only an element of to_drop can be in dropped, so only block-tag ancestors need
        # looking at (lxml filters them by tag before making Python proxies).
        if is_kept(el) or (
            dropped and any(anc in dropped for anc in el.iterancestors(_BLOCK_TAGS))
        ):
            continue
        # Guard: never remove what looks like the article body itself. A name that also
        # says "content" ("article-body share-enabled") is protected from a quarter of
        # the page's text on; a pure chrome name ("comments") only when it wraps most of
        # the page (a template that puts its whole page in one "js-share-root").
        limit = 0.25 if _CONTENT_NAME.search(name) else 0.6
        if _para_chars(el) > limit * page_chars:
            continue
        dropped.add(el)
        _drop(el)

    # By text: short blocks that announce chrome, and list headings with their lists.
    # One walk takes the text of the short blocks for both the text and the shape rules.
    short = _short_text_blocks(root, _TEXT_AND_BOX_TAGS, _TEASER_BOX_MAX)
    for el, text in short:
        if len(text) > _CHROME_TEXT_MAX or el.tag not in _TEXT_RULE_TAGS:
            continue
        if el.getparent() is None or is_kept(el):
            continue
        text = " ".join(text.split())
        if not text:
            continue
        list_heading, chrome_text = _text_kind(text)
        if list_heading and el.tag in ("h2", "h3", "h4", "h5", "h6", "div", "span", "p",
                                       "strong", "header"):
            _drop_list_block(el, page_chars)
        elif chrome_text:
            _drop(_label_box(el, text, page_chars) if _is_box_label(text) else el)
        elif _READ_ALSO_START.match(text) and _linky(el):
            _drop(el)  # "Lire aussi <a>headline</a>": an insert between paragraphs
        elif is_live_widget(text) and (el.tag not in _INLINE_TAGS or _stands_alone(el)):
            _drop(el)

    # By shape: boxes of teaser links to other articles, in any language.
    _drop_teaser_boxes(root, [b for b in short if b[0].tag in _BOX_TAGS], page_chars, is_kept)


def _label_box(label: HtmlElement, text: str, page_chars: int) -> HtmlElement:
    """The box a chrome label ("Newsletter abonnieren", "Anzeige") heads: its highest
    ancestor that holds nothing besides the label but a short pitch and a form (an ad
    slot: nothing at all). Never an ancestor with a sentence of prose in it: an ad slot
    sits beside the paragraphs of short articles."""
    room = 30 if _AD_ONLY.match(text) else 250
    box = label
    node = label.getparent()
    while node is not None and node.tag not in _PROTECTED_TAGS:
        chunks = [" ".join(chunk.split()) for chunk in node.itertext()]
        if (
            sum(map(len, chunks)) - len(text) > room
            or any(len(chunk) > 100 for chunk in chunks)
            or _para_chars(node) > 0.1 * page_chars
        ):
            break
        box = node
        node = node.getparent()
    return box


def _stands_alone(el: HtmlElement) -> bool:
    """Whether an inline element has no sentence text right before or after it."""
    prev = el.getprevious()
    before = prev.tail if prev is not None else (el.getparent().text if el.getparent() is not None else "")
    return not _LETTER.search(before or "") and not _LETTER.search(el.tail or "")


def _short_text_blocks(
    root: HtmlElement, tags: tuple[str, ...], max_chars: int
) -> list[tuple[HtmlElement, str]]:
    """The blocks of ``tags`` with at most ``max_chars`` characters, with their text, in
    document order.

    Taking each block's text is most of the text rules' cost, and the long blocks (the
    page's wrappers) are the expensive ones: so go from the innermost blocks out, and once
    a block is too long, mark its ancestors too long without taking their text.

    Taken before the rules run, not as they run, and still right when they run: the rules
    remove the element, an ancestor or its next sibling, which changes only the text of
    their ancestors, and those come before the element in document order and have been
    looked at already.
    """
    too_long: set[HtmlElement] = set()
    short: list[tuple[HtmlElement, str]] = []
    for el in reversed(list(root.iter(tags))):  # descendants before ancestors
        if el in too_long:
            continue
        text = _text_of(el)
        if len(text) > max_chars:
            node = el
            while node is not None and node not in too_long:
                too_long.add(node)
                node = node.getparent()
        else:
            short.append((el, text))
    short.reverse()
    return short


# Boxes the shape rule looks at, and the longest text such a box of teasers has.
_BOX_TAGS = frozenset({"div", "section", "aside", "ul", "ol"})
_TEASER_BOX_MAX = 2000
# Paths of article pages: a long number (an id), a date, or a slug of several words.
_ARTICLE_PATH = re.compile(r"\d{5,}|/(?:19|20)\d\d/\d{1,2}/")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _page_host(root: HtmlElement) -> str | None:
    """The page's own host, from its canonical URL: links elsewhere are no teasers."""
    for el in root.iter("link", "meta"):
        if (el.get("rel") == "canonical" and el.tag == "link") or el.get("property") == "og:url":
            try:
                host = urlsplit(el.get("href") or el.get("content") or "").netloc.lower()
            except ValueError:  # a malformed canonical ("http://[::1") names no host
                continue
            if host:
                return host.removeprefix("www.")
    return None


def _article_link(a: HtmlElement, host: str | None) -> bool:
    """Whether ``a`` links to an article-shaped URL on the page's own site."""
    try:
        parts = urlsplit(a.get("href") or "")
    except ValueError:
        return False
    if parts.scheme not in ("", "http", "https") or (not parts.path and not parts.netloc):
        return False
    if parts.netloc and host and parts.netloc.lower().removeprefix("www.") != host:
        return False
    path = parts.path.rstrip("/")
    slug = path.rsplit("/", 1)[-1]
    return _ARTICLE_PATH.search(path) is not None or slug.count("-") + slug.count("_") >= 2


def _teaser_box(el: HtmlElement, text: str, host: str | None) -> bool:
    """A box that is mostly headlines linking to other articles of the same site."""
    anchors = list(el.iter("a"))
    if len(anchors) < 3:
        return False
    total = len("".join(text.split()))
    if total == 0:
        return False
    headlines = link_chars = 0
    for a in anchors:
        words = _text_of(a).split()
        link_chars += len("".join(words))
        headline = len(words) >= 4 or (len(words) <= 3 and len("".join(words)) >= 8
                                        and _CJK.search(words[0] if words else "") is not None)
        if headline and _article_link(a, host):
            headlines += 1
    return headlines >= 3 and link_chars >= 0.7 * total


def _headline_link(a: HtmlElement, host: str | None) -> bool:
    """A link whose text reads like a headline, to an article of the page's site."""
    words = _text_of(a).split()
    headline = len(words) >= 4 or (
        len("".join(words)) >= 8 and _CJK.search(words[0]) is not None
    )
    return headline and _article_link(a, host)


def _teaser_list(el: HtmlElement, host: str | None) -> bool:
    """A box whose items are teasers: each a short block under a heading that links to
    another article of the site (a headline, a standfirst, a photo)."""
    items = [child for child in el if isinstance(child.tag, str)]
    if len(items) < 3:
        return False
    teasers = 0
    for item in items:
        if len(_text_of(item)) <= 600 and any(
            _headline_link(a, host)
            for h in item.iter("h2", "h3", "h4", "h5", "h6") for a in h.iter("a")
        ):
            teasers += 1
    return teasers >= 3 and teasers >= 0.8 * len(items)


def _drop_teaser_boxes(
    root: HtmlElement,
    boxes: list[tuple[HtmlElement, str]],
    page_chars: int,
    is_kept: Callable[[HtmlElement], bool],
) -> None:
    """Remove boxes of teaser links ("Mehr zum Thema", "Lire aussi", 関連記事, a most-read
    list: their shape tells, in any language) with the heading just before them.

    ``boxes`` are the page's short boxes with their text, taken before the text rules ran
    (a box they emptied has less link text now, never more).
    """
    host = _page_host(root)
    dropped: set[HtmlElement] = set()
    page_text: int | None = None
    for el, text in boxes:
        if el.getparent() is None or is_kept(el) or (
            dropped and any(anc in dropped for anc in el.iterancestors(*_BOX_TAGS))
        ):
            continue
        # A list of teasers has a standfirst under each headline: more paragraph text.
        if _teaser_box(el, text, host):
            limit = 0.1
        elif _teaser_list(el, host):
            limit = 0.25
        else:
            continue
        if _para_chars(el) > limit * page_chars:
            continue
        if page_text is None:
            page_text = len(_text_of(root))
        if len(text) > 0.3 * page_text:
            continue  # a page that is a list of links: the list is its content
        # A box is often wrapped with its own heading ("Other Opinion Columns", in any
        # language): take the wrappers that add nothing but such a heading.
        node = el.getparent()
        while node is not None and node.tag not in _PROTECTED_TAGS and not is_kept(node):
            if len(_text_of(node)) - len(_text_of(el)) > 80:
                break
            el = node
            node = node.getparent()
        heading = el.getprevious()
        if heading is not None and heading.tag in ("h2", "h3", "h4", "h5", "h6") and (
            len(_text_of(heading)) <= 80
        ):
            _drop(heading)
        dropped.add(el)
        _drop(el)


def _drop_list_block(heading: HtmlElement, page_chars: int) -> None:
    """Remove a heading such as "Related Articles" and the list it introduces.

    Climb from the heading while the ancestor is still "small and linky" (little paragraph
    text, mostly links or short items); remove the highest such ancestor. If the heading is
    directly followed by a list, remove that too.
    """
    target = heading
    node = heading.getparent()
    while node is not None and node.tag not in _PROTECTED_TAGS:
        if _para_chars(node) > 0.1 * page_chars or not _linky(node):
            break
        target = node
        node = node.getparent()
    if target is heading:
        nxt = heading.getnext()
        if nxt is not None and (nxt.tag in ("ul", "ol") or _linky(nxt)) and (
            _para_chars(nxt) < 0.1 * page_chars
        ):
            _drop(nxt)
    _drop(target)


def _linky(el: HtmlElement) -> bool:
    """True when most of ``el``'s text is link text (a list of other articles)."""
    text_len = len(el.text_content().strip())
    if text_len == 0:
        return True
    link_len = sum(len(a.text_content().strip()) for a in el.iter("a"))
    return link_len >= 0.5 * text_len


def merge_split_body(root: HtmlElement) -> None:
    """Join an article body that the template split into sibling chunks.

    Some templates cut the body into several containers with the same tag and class,
    e.g. ``<div class="body__container">`` x 3 with ads or "related" boxes in between;
    trafilatura then keeps only the first chunk. When a few such containers, each holding
    several paragraphs, together hold most of the page's paragraph text and none contains
    another, move the content of the later ones into the first. (A list of teasers also
    repeats a class, but with one paragraph per item: it is not merged.)
    """
    per_parent: dict[HtmlElement, list[int]] = {}
    total = 0
    for p in root.iter("p"):
        n = len(p.text_content())
        if n <= 80:
            continue
        total += n
        parent = p.getparent()
        if parent is not None and parent.get("class"):
            per_parent.setdefault(parent, []).append(n)
    if not total:
        return
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    chars: dict[tuple[str, str], int] = {}
    for parent, lengths in per_parent.items():
        sig = (parent.tag, parent.get("class") or "")
        groups.setdefault(sig, []).append(parent)
        chars[sig] = chars.get(sig, 0) + sum(lengths)
    if not chars:
        return
    sig = max(chars, key=chars.__getitem__)
    parents = groups[sig]
    if not 2 <= len(parents) <= 12 or chars[sig] < 0.6 * total:
        return
    if not any(len(per_parent[p]) >= 2 for p in parents):
        return  # one paragraph per container: a list of teasers
    members = set(parents)
    if any(anc in members for other in parents for anc in other.iterancestors()):
        return  # nested containers: not a split body
    # Chunks of one body are siblings or cousins: same depth, common ancestor close by.
    lineages = [list(p.iterancestors())[:3] for p in parents]
    if len({len(list(p.iterancestors())) for p in parents}) != 1 or not set(
        lineages[0]
    ).intersection(*map(set, lineages[1:])):
        return
    first = parents[0]
    for other in parents[1:]:
        for child in list(other):
            first.append(child)
        _drop(other)


# Compiled once rather than at every call: a table's own cells (not those of tables
# nested in it), its structure elements (nested tables' too, hence the nearest-table check).
_TABLE_CELLS = etree.XPath("./tr/td | ./tbody/tr/td | ./tr/th | ./tbody/tr/th")
_TABLE_PARTS = etree.XPath(".//tbody | .//tr | .//td | .//th | .//thead | .//tfoot")
_NEAREST_TABLE = etree.XPath("ancestor::table[1]")
# Elements with at least two <br> children: only those can be split on <br><br>.
# Selecting them in C spares a Python walk over the children of every block on the page.
_TWO_BR_PARENTS = etree.XPath("descendant-or-self::*[br[2]]")
_BR_SPLIT_TAGS = frozenset({"font", "td", "div", "span"})


def unwrap_layout_tables(root: HtmlElement) -> None:
    """Turn tables used for page layout into plain blocks.

    Old templates lay the whole page out in a ``<table>``; trafilatura then reads it as a
    data table and returns navigation, body and footer as rows of one table. A table is
    for layout when one of its own cells holds long text or another table; data tables
    have short cells.
    """
    for table in list(root.iter("table")):
        cells = _TABLE_CELLS(table)
        if not any(
            len(cell.text_content()) > 400 or cell.find(".//table") is not None
            for cell in cells
        ):
            continue
        for el in _TABLE_PARTS(table):
            if _NEAREST_TABLE(el)[0] is table:
                el.tag = "div"
                el.attrib.pop("colspan", None)
        table.tag = "div"
    # <br><br> is how these templates separate paragraphs: make them real paragraphs so
    # the extracted text keeps the breaks.
    # (Splitting one element only regroups its own children: the others' stay as they
    # were when selected.)
    for el in _TWO_BR_PARENTS(root):
        if el.tag in _BR_SPLIT_TAGS:
            _split_on_double_br(el)


def _split_on_double_br(el: HtmlElement) -> None:
    """Wrap the runs of ``el``'s content separated by ``<br><br>`` in ``<p>`` elements."""
    # Plan without touching the tree: a list of runs, each a list of text or elements.
    runs: list[list] = [[]]
    if el.text and el.text.strip():
        runs[-1].append(el.text)
    prev_br = False
    split = False
    for child in el:
        if child.tag == "br":
            if prev_br and runs[-1]:
                runs.append([])
                split = True
            prev_br = True
        else:
            prev_br = False
            runs[-1].append(child)
        if child.tail and child.tail.strip():
            runs[-1].append(child.tail)
            prev_br = False
    runs = [run for run in runs if run]
    if not split or len(runs) < 2:
        return
    for child in list(el):
        el.remove(child)
    el.text = None
    for run in runs:
        p = el.makeelement("p", {})
        last = None
        for item in run:
            if isinstance(item, str):
                if last is None:
                    p.text = (p.text or "") + item
                else:
                    last.tail = (last.tail or "") + item
            else:
                item.tail = None
                p.append(item)
                last = item
        el.append(p)


# A byline on its own line before the body ("By Jane Doe, staff writer").
_BYLINE_LINE = re.compile(
    r"(?i)^(?:by|written\s+by)\s+[^.!?]{2,100}$"
    # "Von", "Par", "Por", "Di", "Door", "Av", "Przez": a capitalised name, no clause
    r"|^(?:von|par|por|di|door|av|przez)\s+(?-i:[A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ][\w'’-]+\s+"
    r"(?:(?:de|da|van|von|der|den|la|le|del|di|dos)\s+)*[A-ZÀ-ÖØ-ÞĄĆĘŁŃŚŹŻ])[^.!?,;:]{0,60}$"
)



def _is_read_also_line(line: str) -> bool:
    """A "Lire aussi <headline>" insert as a line of text: the phrase, then a headline
    (short, with no sentence end), where the tree showed the link."""
    return (
        len(line) <= 200
        and _READ_ALSO_START.match(line) is not None
        and not line.rstrip().endswith((".", "!", "?", "。", "！", "？"))
    )


def clean_text(text: str, title: str | None = None) -> str:
    """Drop chrome lines from extracted text; keep every other line, in order.

    The headline is metadata, not body: a first line repeating it is dropped. Repeated
    lines are kept: recipes, lyrics and Q&As legitimately repeat paragraphs. Live widgets
    (relative times, counters) go, whole lines or the parts of a meta line.
    """
    out: list[str] = []
    title_key = " ".join(title.split()).casefold() if title else None
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if not out:
            key = " ".join(stripped.split()).casefold()
            if title_key and key.startswith(title_key):
                # "Headline" or "HeadlineBy Jane Doe" (a headline and byline run together)
                rest = key[len(title_key):].strip()
                if not rest or _BYLINE_LINE.match(rest):
                    continue
            if _BYLINE_LINE.match(stripped):
                continue
        if len(stripped) <= _CHROME_TEXT_MAX and _is_chrome_line(stripped):
            continue
        if is_live_widget(stripped) or _is_read_also_line(stripped):
            continue
        stripped = _without_widgets(stripped)
        out.append(stripped)
    return "\n".join(out)
