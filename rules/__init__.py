"""Boundary rules: the model, the TOML file, decisions and the content classifier. No mitmproxy, no Flask."""
