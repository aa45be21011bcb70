"""The developer docs point at things that exist: the files a newcomer is sent to, the store's modules, the jobs
the running service schedules. A doc that names a file that moved, or misses a module or a job, sends the next
reader looking in the wrong place."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from breather import scheduler
from breather.dashboard import jobs as dashboard_jobs
from breather.rules.loader import parse_rules

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS = PROJECT_ROOT / "docs"
RULES = '[household]\ntimezone = "UTC"\n\n[profiles.me]\ndefault = true\n'
CODE_SPAN = re.compile(r"`([^`]+)`")


def section(path: Path, heading: str) -> str:
    """The text under the heading line that starts with ``heading`` (``## Scheduler``), up to the next heading of
    its level."""
    lines = path.read_text(encoding="utf-8").splitlines()
    level = heading.split(" ", 1)[0] + " "
    starts = [number for number, line in enumerate(lines) if line.startswith(heading)]
    assert starts, f"{path.name} has no heading {heading!r}"
    start = starts[0]
    end = next((number for number in range(start + 1, len(lines)) if lines[number].startswith(level)), len(lines))
    return "\n".join(lines[start + 1 : end])


def repository_paths(text: str) -> list[str]:
    """Code spans that name a file or folder of this repository (not a placeholder such as ``<name>``)."""
    return [
        span
        for span in CODE_SPAN.findall(text.replace("\n", " "))
        if "/" in span and " " not in span and not span.startswith(("../", "/", "http")) and not set("<{*") & set(span)
    ]


def scheduled_job_ids() -> set[str]:
    """The ids of the jobs ``breather serve`` adds: the scheduler's own and the dashboard's."""
    jobs = BackgroundScheduler(timezone="UTC")
    jobs.start(paused=True)
    try:
        runtime = SimpleNamespace(rules=parse_rules(RULES))
        scheduler.register_jobs(jobs, runtime)
        dashboard_jobs.register(jobs, runtime)
        return {job.id for job in jobs.get_jobs()}
    finally:
        jobs.shutdown(wait=False)


def test_the_interfaces_doc_names_every_job_the_service_schedules() -> None:
    documented = set(CODE_SPAN.findall(section(DOCS / "interfaces.md", "## Scheduler")))
    assert scheduled_job_ids() - documented == set()


def test_the_store_doc_names_every_module_of_the_store() -> None:
    store_doc = (DOCS / "store.md").read_text(encoding="utf-8")
    modules = sorted((PROJECT_ROOT / "breather" / "store").glob("*.py"))
    named = [module.relative_to(PROJECT_ROOT).as_posix() for module in modules if module.name != "__init__.py"]
    assert [module for module in named if module not in store_doc] == []


@pytest.mark.parametrize(
    ("doc", "heading"),
    [(PROJECT_ROOT / "README.md", "## For developers"), (DOCS / "adapters.md", "## Adding a site")],
)
def test_the_places_a_newcomer_is_sent_to_exist(doc: Path, heading: str) -> None:
    named = repository_paths(section(doc, heading))
    assert named, f"{doc.name} {heading!r} names no files: the section moved?"
    assert [path for path in named if not (PROJECT_ROOT / path).exists()] == []
