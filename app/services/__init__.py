"""Services: the archive's rules. They take a session and return models, never HTTP responses."""
