"""Server-rendered pages for residents and officials (Dutch first, English switchable)."""
