"""Plateau: a searchable archive of French tech-debate episodes."""
