"""A real HTTP server on loopback for crawl tests (as Scrapy's ``tests/mockserver``).

It serves any number of fixture publisher sites (each under its own path prefix, in
states the tests switch between) and the hostile endpoints of ``/hostile/``: a PDF, an
image, an empty 200, NUL bytes, charsets only in the HTTP header, a page over the size
cap, a gzip bomb, a redirect loop, a 503 then 200, malformed, truncated and
entity-expanding sitemaps and feeds.
"""

from __future__ import annotations

import gzip
import html
import random
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, unquote

from archiver.demo.publisher import DemoArticle, Publisher, Response, SiteHandler, SiteServer

_WORDS = (
    "council harbour budget minister river school vote winter market bridge report "
    "hospital railway farmers election museum court police weather energy housing "
    "festival workers airport library study museum ferry coast mayor tax plan city "
    "village union data climate grant region company tender shipyard tram park"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(10, 18))]
    return " ".join(words).capitalize() + f", officials said on day {rng.randint(1, 28)}."


def make_articles(n: int, seed: int = 1) -> list[DemoArticle]:
    """``n`` distinct articles with a correction each, deterministic for a seed."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, 8, 0, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        paragraphs = tuple(
            " ".join(_sentence(rng) for _ in range(3)) for _ in range(4)
        )
        out.append(
            DemoArticle(
                slug=f"story-{i:03d}-{rng.choice(_WORDS)}",
                section=("local", "business", "culture")[i % 3],
                title=f"Story {i}: the {rng.choice(_WORDS)} and the {rng.choice(_WORDS)}",
                author=f"Reporter {chr(65 + i % 26)}. Example",
                published=start + timedelta(hours=7 * i),
                paragraphs=paragraphs,
                correction=(
                    1,
                    paragraphs[1] + f" The figure was {1000 + i} euros, not {100 + i}.",
                    f"An earlier version of story {i} misstated a figure.",
                ),
            )
        )
    return out


def _article_html(title: str, paragraphs: list[str], lang: str = "en", charset: str | None = None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{html.escape(title)}</title></head>'
        f"<body><header><a href='/'>Home</a></header><article><h1>{html.escape(title)}</h1>"
        f"{body}</article><footer>Footer</footer></body></html>"
    )


ARABIC = [
    "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في المدينة الساحلية بعد سنوات من العمل.",
    "وقال الوزير في مؤتمر صحفي إن المستشفى سيخدم أكثر من مئتي ألف نسمة في المنطقة الشرقية.",
    "ويضم المبنى الجديد ثلاثمئة سرير وقسما متخصصا لعلاج الأطفال ومركزا للأبحاث الطبية.",
    "وأكد المسؤولون أن تكلفة المشروع بلغت نحو خمسين مليون دولار مولتها الحكومة بالكامل.",
]
RUSSIAN = [
    "Городской совет в понедельник утвердил план строительства нового моста через реку.",
    "По словам мэра, работы начнутся весной и продлятся около трёх лет без перерыва.",
    "Жители прибрежных районов давно жаловались на пробки на старом мосту в часы пик.",
    "Стоимость проекта оценивается в двенадцать миллиардов рублей из областного бюджета.",
]
FRENCH = [
    "Le conseil municipal a voté lundi un budget élargi pour les écoles de la côte.",
    "« C'est une décision très attendue », a déclaré la maire, entourée d'élèves ravis.",
    "Les travaux de rénovation débuteront à l'été et coûteront près de trois millions d'euros.",
    "Les parents d'élèves saluent un effort qu'ils réclamaient depuis plusieurs années déjà.",
]
GERMAN = [
    "Die Fähre über den Fluss fährt ab Montag wieder nach dem üblichen Fahrplan.",
    "Nach Angaben der Stadtwerke wurden die Schäden an der Anlegestelle vollständig behoben.",
    "Pendler müssen sich dennoch auf längere Wartezeiten während der Bauarbeiten einstellen.",
    "Die Kosten für die Reparatur übernimmt größtenteils das Land, teilte das Ministerium mit.",
]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://example.invalid/&lol9;</loc></url>
</urlset>
"""

#: Size of /hostile/huge; tests run with a cap below it (DOWNLOAD_MAXSIZE=1 MiB).
HUGE_SIZE = 3 * 1024 * 1024


class HostileHandler(SiteHandler):
    server: MockServer

    def send(self, response: Response) -> None:
        # Publisher pages are sent gzipped when the client accepts it, as real sites do.
        accept = self.headers.get("Accept-Encoding", "")
        if (
            response.status == 200 and self.server.gzip_pages and "gzip" in accept
            and response.headers.get("Content-Type", "").startswith("text/html")
            and "Content-Encoding" not in response.headers
        ):
            response = Response(
                200, {**response.headers, "Content-Encoding": "gzip"}, gzip.compress(response.body)
            )
        self.server.statuses[self.path] = response.status
        super().send(response)

    def route(self, path: str) -> Response | None:
        if self.server.delay and "/hostile/" not in path and path.endswith(".html"):
            time.sleep(self.server.delay)
        if path == "/robots.txt" and self.server.robots_sites is not None:
            lines = ["User-agent: *", "Disallow: /hostile/private"]
            lines += [f"Sitemap: {self.base}{p}/sitemap.xml" for p in self.server.robots_sites]
            return Response(200, {"Content-Type": "text/plain"}, ("\n".join(lines) + "\n").encode())
        if path in self.server.documents:
            document = self.server.documents[path]
            if isinstance(document, tuple):  # (extra headers, body)
                return Response(200, {"Content-Type": "application/xml", **document[0]},
                                document[1])
            return Response(200, {"Content-Type": "application/xml"}, document)
        if path.startswith("/hostile/"):
            return self.hostile(path[len("/hostile/"):])
        if path.startswith("/r/"):  # /r/<prefix>/<article path>: a permanent redirect
            return Response(301, {"Location": self.base + path[len("/r"):]})
        if path.startswith("/go/"):  # /go/<percent-encoded URL>: a redirect to any URL
            return Response(302, {"Location": unquote(path[len("/go/"):])})
        if path.startswith("/refresh/"):  # /refresh/<percent-encoded URL>: a meta refresh
            target = html.escape(unquote(path[len("/refresh/"):]))
            page = (f'<!DOCTYPE html><html><head><title>Moved</title><meta http-equiv="refresh" '
                    f'content="0; url={target}"></head><body>Moved.</body></html>')
            return Response(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())
        if path.startswith("/m/"):  # /m/<prefix>/<article path>: a meta refresh to it
            target = html.escape(path[len("/m"):])
            page = (f'<!DOCTYPE html><html><head><title>Moved</title><meta http-equiv="refresh" '
                    f'content="0; url={target}"></head><body>This story has moved.</body></html>')
            return Response(200, {"Content-Type": "text/html; charset=utf-8"}, page.encode())
        return super().route(path)

    def hostile(self, name: str) -> Response | None:
        html_utf8 = "text/html; charset=utf-8"
        if name == "doc.pdf":
            return Response(200, {"Content-Type": "application/pdf"}, b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n")
        if name == "pdf-as-html":
            return Response(200, {"Content-Type": "text/html"}, b"%PDF-1.7\n" + b"\x00\x01" * 200)
        if name == "image.png":
            return Response(200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        if name == "empty":
            return Response(200, {"Content-Type": html_utf8}, b"")
        if name == "nul":
            text = _article_html("Nul bytes", GERMAN).replace("Fähre", "F\x00ähre")
            return Response(200, {"Content-Type": html_utf8}, text.encode("utf-8"))
        if name == "cp1252":
            text = _article_html("Le budget des écoles", FRENCH, "fr")
            return Response(200, {"Content-Type": "text/html; charset=windows-1252"},
                            text.encode("cp1252"))
        if name == "cp1256":
            text = _article_html("مستشفى جديد", ARABIC, "ar")
            return Response(200, {"Content-Type": "text/html; charset=windows-1256"},
                            text.encode("cp1256"))
        if name == "koi8r":
            text = _article_html("Новый мост", RUSSIAN, "ru")
            return Response(200, {"Content-Type": "text/html; charset=koi8-r"},
                            text.encode("koi8-r"))
        if name == "nocharset":
            text = _article_html("Die Fähre fährt wieder", GERMAN, "de")
            return Response(200, {"Content-Type": "text/html"}, text.encode("utf-8"))
        if name == "huge":
            body = _article_html("Huge", GERMAN).encode() + b" " * HUGE_SIZE
            return Response(200, {"Content-Type": html_utf8}, body)
        if name == "bomb":
            raw = _article_html("Bomb", GERMAN).encode() + b" " * (HUGE_SIZE * 2)
            return Response(200, {"Content-Type": html_utf8, "Content-Encoding": "gzip"},
                            gzip.compress(raw, 9))
        if name in ("loop-a", "loop-b"):
            other = "loop-b" if name == "loop-a" else "loop-a"
            return Response(302, {"Location": f"{self.base}/hostile/{other}"})
        if name.startswith("flaky-"):  # 503 (Retry-After: 1) the first time, then a page
            self.server.hits[name] += 1
            if self.server.hits[name] == 1:
                return Response(503, {"Retry-After": "1", "Content-Type": "text/plain"}, b"busy")
            text = _article_html("Back after a 503", FRENCH, "fr")
            return Response(200, {"Content-Type": html_utf8}, text.encode("utf-8"))
        if name.startswith("long-redirect-"):  # /hostile/long-redirect-<n>[-tag]: to an n-char URL
            target = f"{self.base}/hostile/long?q="
            return Response(302, {"Location": target + "x" * (int(name.split("-")[2]) - len(target))})
        if name == "sitemap-laughs.xml":
            return Response(200, {"Content-Type": "application/xml"}, BILLION_LAUGHS)
        if name == "sitemap-garbage.xml":
            return Response(200, {"Content-Type": "text/html"}, b"<html><body>Oops</body></html>")
        if name.startswith("sitemap-truncated/"):  # /hostile/sitemap-truncated/<prefix>
            prefix = "/" + name.split("/", 1)[1]
            publisher = next(p for p in self.server.publishers if p.prefix == prefix)
            full = publisher.render_sitemap(self.base).encode()
            return Response(200, {"Content-Type": "application/xml"}, full[: len(full) * 2 // 3])
        if name == "feed-malformed.xml":
            return Response(200, {"Content-Type": "application/rss+xml"},
                            b"<?xml version='1.0'?><rss><channel><item><title>A & B</title>"
                            b"<link>" + self.base.encode() + b"/hostile/cp1252</link></item><item>")
        return None


class MockServer(SiteServer):
    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__([], HostileHandler, host=host)
        self.statuses: dict[str, int] = {}
        self.hits: Counter[str] = Counter()
        self.gzip_pages = True
        self.delay = 0.0
        #: Prefixes whose sitemaps robots.txt lists (None: every site's).
        self.robots_sites: list[str] | None = None
        #: Extra documents served verbatim, by path: a body, or (extra headers, body).
        self.documents: dict[str, bytes | tuple[dict[str, str], bytes]] = {}
        self._sites_lock = threading.Lock()

    def new_site(self, n: int = 30, seed: int = 1, name: str = "Fixture Daily") -> Publisher:
        """A fresh publisher under its own prefix, in state 1 with nothing corrected."""
        prefix = f"/site-{uuid.uuid4().hex[:8]}"
        publisher = Publisher(name, make_articles(n, seed), prefix=prefix)
        with self._sites_lock:
            self.publishers.append(publisher)
        return publisher

    def url(self, path: str) -> str:
        return self.base_url + path

    def sitemap_url(self, publisher: Publisher) -> str:
        return f"{self.base_url}{publisher.prefix}/sitemap.xml"

    def article_url(self, publisher: Publisher, article: DemoArticle) -> str:
        return f"{self.base_url}{publisher.prefix}{article.path}"

    def requests_for(self, prefix: str) -> list[str]:
        with self._lock:
            return [p for p in self.requests if p.startswith(prefix)]


def hostile_article_urls(server: MockServer) -> dict[str, str]:
    """Hostile URLs that a sitemap may list as articles, by name."""
    names = ["doc.pdf", "pdf-as-html", "image.png", "empty", "nul", "cp1252", "cp1256",
             "koi8r", "nocharset", "huge", "bomb", "loop-a", f"flaky-{uuid.uuid4().hex[:6]}"]
    return {n.split("-")[0] if n.startswith("flaky-") else n: server.url(f"/hostile/{n}")
            for n in names}


def sitemap_with(server: MockServer, publisher: Publisher, extra_urls: list[str]) -> str:
    """Serve ``/<prefix>/sitemap-all.xml``: the site's articles, a section front and
    ``extra_urls`` (hostile pages), all in one urlset. Returns its URL."""
    base = server.base_url
    locs = [f"{base}{publisher.prefix}{a.path}" for a in publisher.articles]
    locs.append(f"{base}{publisher.prefix}/{publisher.articles[0].section}/")
    locs += extra_urls
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "".join(f"<url><loc>{html.escape(u)}</loc></url>\n" for u in locs)
        + "</urlset>\n"
    ).encode()
    server.documents[publisher.prefix + "/sitemap-all.xml"] = body
    return f"{base}{publisher.prefix}/sitemap-all.xml"


def go_url(server: MockServer, target: str) -> str:
    """A URL on ``server`` that redirects (302) to ``target``."""
    return server.url("/go/" + quote(target, safe=""))


def refresh_url(server: MockServer, target: str) -> str:
    """A URL on ``server`` whose page is a meta refresh to ``target``."""
    return server.url("/refresh/" + quote(target, safe=""))


class InternalHandler(SiteHandler):
    """Any path is a readable article: what an intranet page or a metadata service would
    give away if the crawler fetched it."""

    def route(self, path: str) -> Response | None:
        text = _article_html("Internal: instance credentials", [
            " ".join(GERMAN) + f" Secret token for {path}: s3cr3t-{len(path)}.",
            *FRENCH,
        ])
        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, text.encode())


class InternalServer(SiteServer):
    """The "internal" host, on another loopback address (127.0.0.2 by default): the
    network policy must keep the crawler away from it; ``requests`` is its log."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        super().__init__([], InternalHandler, host=host)

    def url(self, path: str) -> str:
        return self.base_url + path
