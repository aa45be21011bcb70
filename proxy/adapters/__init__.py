"""Site adapters: find posts in a platform response and mark the flagged ones."""
