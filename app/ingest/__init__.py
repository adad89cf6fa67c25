"""Parsers: bytes of one transcript file in, one Transcript value out. No database, no index."""
