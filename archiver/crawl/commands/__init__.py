"""Scrapy commands of the project (``COMMANDS_MODULE``): ``crawl`` with a preflight."""
