"""The Flask dashboard, the extension API and the pywebview window."""
