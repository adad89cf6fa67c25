"""JSON routes under /api, on the same services as the pages."""
