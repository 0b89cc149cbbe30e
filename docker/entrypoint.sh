#!/bin/sh
# Apply the migrations, then run the container's command (a crawl, `archiver ...`).
set -e
archiver db upgrade
exec "$@"
