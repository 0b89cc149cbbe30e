"""Running the archive: extraction health (and, later, scheduling and status)."""
