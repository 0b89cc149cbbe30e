"""Running the archive as a service: jobs, their locks, crawl-run bookkeeping, the
scheduler and ``archiver status``.

- :mod:`.jobs`: what a job is (a crawl's normalised arguments) and which jobs
  ``sources.toml`` declares, with their intervals;
- :mod:`.lock`: one crawl per job at a time (a PostgreSQL advisory lock, a file lock
  next to an SQLite archive);
- :mod:`.runs`: the crawl side of a run (lock, row, heartbeat) and how a run whose
  process died is found and marked ``abandoned``;
- :mod:`.scheduler`: ``archiver schedule``, each due job as its own ``scrapy crawl``;
- :mod:`.status`: ``archiver status``.
"""
