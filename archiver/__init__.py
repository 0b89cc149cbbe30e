"""archiver: a news scraper and article archiver.

Scrapy spiders fetch publisher pages, :func:`archiver.extract.extract` separates the
article from the page's chrome, and :func:`archiver.storage.archive.archive` stores a
new version of an article only when the article itself changed.
"""

__version__ = "0.1.0"
