# The archiver image: the package, Scrapy and the migrations. On start it applies the
# migrations to ARCHIVER_DATABASE_URL, then runs the given command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md scrapy.cfg alembic.ini ./
COPY archiver ./archiver
RUN pip install . && useradd --create-home archiver && mkdir -p /data && chown archiver /data
COPY docker/entrypoint.sh /usr/local/bin/archiver-entrypoint
COPY sources.toml* ./

USER archiver
ENTRYPOINT ["archiver-entrypoint"]
CMD ["archiver", "db", "current"]
