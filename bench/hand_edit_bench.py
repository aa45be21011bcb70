"""A hand edit of ``rules.toml`` beside a long pasted keyword list: how long the service's watcher takes to take it
in. Run: ``python -m bench hand_edit``.

The default file promises "Breather re-reads it within a second or two of saving". For 2,000 and 8,000 keywords, the
median of 3 ``RulesWatcher.reload`` calls, each on a fresh watcher (``cool_loosening``, a last good copy) after:
* ``tighten``: the daily limit 1h -> 50m (applies at once);
* ``remove``: one keyword removed (held for the cooling-off; the rules in force are written as the last good copy);
* ``swap``: one keyword replaced by another (the same, plus a tightening).
Before the cooling-off compared lists through sets and long lists were written one item to a line (built in one
step), 8,000 keywords took ~4.5 s to tighten and ~30 s to remove one. Temp folders only.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from breather.rules.loader import default_rules_text
from breather.rules.watcher import RulesWatcher

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
EDITS: dict[str, Callable[[str], str]] = {
    "tighten": lambda text: text.replace('daily_limit = "1h"', 'daily_limit = "50m"'),
    "remove": lambda text: text.replace('  "word5",\n', ""),
    "swap": lambda text: text.replace('  "word5",\n', '  "another",\n'),
}


def with_keywords(count: int) -> str:
    words = "\n".join(f'  "word{index}",' for index in range(count))
    return default_rules_text().replace('# keywords = ["spoiler", "election"]', f"keywords = [\n{words}\n]", 1)


def reload_ms(text: str, edit: Callable[[str], str]) -> float:
    with tempfile.TemporaryDirectory() as folder:
        rules_file, copy = Path(folder) / "rules.toml", Path(folder) / "data" / "rules.last-good.toml"
        rules_file.write_text(text, encoding="utf-8")
        watcher = RulesWatcher(rules_file, last_good=copy, cool_loosening=True, clock=lambda: NOW)
        rules_file.write_text(edit(text), encoding="utf-8")
        started = time.perf_counter()
        watcher.reload()
        return (time.perf_counter() - started) * 1000


def main() -> None:
    for count in (2000, 8000):
        text = with_keywords(count)
        timings = {name: statistics.median(reload_ms(text, edit) for _ in range(3)) for name, edit in EDITS.items()}
        print(f"{count} keywords: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in timings.items()))
