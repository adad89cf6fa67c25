"""Page routes: full pages or HTMX fragments from the same URL, on the same services as the API."""
