"""The usage store: SQLite through sqlite-utils, one writer thread."""
