"""The offline demo: a small bundled publisher site served on loopback, crawled twice."""
