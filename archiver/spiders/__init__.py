"""Spiders: where articles come from. ``news`` is the generic one."""
