"""The fetch side of a crawl: what the spiders and Scrapy hand pages through.

Listings (``sitemaps``, ``feeds``) and publisher declarations (``sources``) say what to
fetch; ``netpolicy`` and ``middlewares`` decide what may be fetched and how; ``workers``
run the configured extractor (``extractors``) off the reactor; ``pipelines`` archive
every fetch, and ``spool`` keeps pages while the database is away.
"""
