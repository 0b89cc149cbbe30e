"""How a page is read: ``extract(html, url) -> Article | None``.

No Scrapy, no SQLAlchemy here: extraction is a pure function of the page.
"""

from archiver.extract.article import Article
from archiver.extract.core import EXTRACTOR_VERSION, ExtractRules, extract

__all__ = ["Article", "EXTRACTOR_VERSION", "ExtractRules", "extract"]
