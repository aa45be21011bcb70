"""Domain helpers: what each page and API answer shows, computed from the store and the rules (no Flask here)."""
