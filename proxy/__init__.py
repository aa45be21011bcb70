"""The mitmproxy side of Breather: addons, site adapters and the in-page overlay."""
