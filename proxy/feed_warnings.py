"""The response pipeline that turns a feed into one with content warnings.

For a response from an intercepted site: pick the site group's adapter for the content type, decode the body to
identity, let the adapter mark the flagged posts off the event loop (classification is capped per response by
``classify_budget_ms``: whatever is left when the budget runs out passes unmarked), put the edited body back as
identity, and log one ``warning_shown`` event per marked post the person had not been shown that day (a feed
reloaded five times shows one post once, for the weekly review and for the heavy-run break alike). Anything unusual
(over the size cap, streamed, not a whole body (only 200 and 203 are edited), undecodable, an adapter that returns
None) leaves the original bytes untouched.

(The module is not called ``warnings.py`` because mitmproxy puts a script's folder first on ``sys.path`` while it
loads ``proxy/addon.py``, and a ``warnings`` module there would shadow the standard library's.)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.adapters import adapter_for
from breather.proxy.adapters.base import AdapterContext, Finding, Judge, Marked, finding_from_verdict
from breather.proxy.adapters.jsonadapter import JsonAdapter
from breather.proxy.adapters.registry import is_json
from breather.proxy.bodies import decode_body, is_streamed, replace_body, streamed_for_its_size
from breather.proxy.calm_media import is_calmable
from breather.proxy.csp import add_nonce_to_headers, add_nonce_to_meta
from breather.proxy.safety import original_on_error
from breather.proxy.uplift import Scorer, default_scorer, soothe_body
from breather.proxy.validators import judged_state
from breather.rules.crisis import helpline_for
from breather.rules.editing import write_atomically
from breather.rules.model import Sensitivity
from breather.runtime import Runtime
from breather.store.queries import SHOWN_WARNINGS_KEY

if TYPE_CHECKING:
    from breather.rules.classify import Keywords

log = logging.getLogger(__name__)

PRIVATE_FILE = 0o600

JUDGE_CACHE_SIZE = 4096
# Which /healthz counter a body that goes out as it came adds to, by why it could not be read.
PASSED_COUNTERS = {"truncated": "passed_truncated", "undecodable": "passed_undecodable", "over_cap": "passed_over_cap"}
# How many posts shown with a warning are remembered (in memory only, per service), so a reload logs nothing new.
SHOWN_MEMORY = 10_000
SHOWN_FOR_HOURS = 12
# The store's ``meta`` row holding the key of ShownPosts' digests: kept away from the digests themselves.
SALT_META_KEY = SHOWN_WARNINGS_KEY
SALT_KEEP_TIMEOUT_S = 10.0


def budgeted[T](
    work: Callable[[str], T | None], budget_s: float, on_exhausted: Callable[[], None]
) -> Callable[[str], T | None]:
    """``work`` (a judge, or uplift's scorer) that stops working ``budget_s`` after its first call: it returns None
    (a post unmarked, or left in place) and calls ``on_exhausted`` once.

    The clock starts at the first post, not when the response arrived, so time spent waiting for a worker thread
    on a busy machine does not eat the budget.
    """
    deadline: float | None = None
    exhausted = False

    def within_budget(text: str) -> T | None:
        nonlocal deadline, exhausted
        now = time.monotonic()
        if deadline is None:
            deadline = now + budget_s
        elif now > deadline:
            if not exhausted:
                exhausted = True
                on_exhausted()
            return None
        return work(text)

    return within_budget


def own_keywords(profile: Any) -> Keywords:
    """The profile's own words as the classifier takes them: the plain ``keywords`` alone (category ``custom``), or,
    with named topics, one mapping that carries both (each topic's warning names it: ``keyword:<topic>``)."""
    from breather.rules.classify import PLAIN_KEYWORDS

    keywords = tuple(profile.keywords)
    if not profile.topics:
        return keywords
    return {PLAIN_KEYWORDS: keywords, **{name: tuple(phrases) for name, phrases in profile.topics.items()}}


def profile_judge(profile: Any) -> Judge:
    """The classifier with this profile's keywords and sensitivity, remembering recent texts (feeds repeat)."""
    from breather.rules.classify import classify

    keywords = own_keywords(profile)
    sensitivity = dict(profile.sensitivity)
    usual = usual_levels(sensitivity)
    classify("warm up", keywords=keywords, sensitivity=sensitivity)  # loads the lexicon outside any budget

    @lru_cache(maxsize=JUDGE_CACHE_SIZE)
    def judge(text: str) -> Finding | None:
        finding = finding_from_verdict(classify(text, keywords=keywords, sensitivity=sensitivity))
        if finding is None or usual == sensitivity:
            return finding
        # the scores are cached by text: asking again at the usual level only applies its thresholds
        heavy = bool(classify(text, keywords=keywords, sensitivity=usual).flagged)
        return finding if heavy else replace(finding, heavy=False)

    return judge


def usual_levels(sensitivity: dict[str, Sensitivity]) -> dict[str, Sensitivity]:
    """The levels whose warnings count toward the heavy-posts break: "high" counts as "medium" (it covers harmless
    posts by design, and a break on those is a false alarm the person cannot reveal away)."""
    return {category: "medium" if level == "high" else level for category, level in sensitivity.items()}


def profile_screen(profile: Any) -> Callable[[str], bool]:
    from breather.rules.classify import screen

    keywords = own_keywords(profile)
    return lambda text: screen(text, keywords)


class FeedWarnings:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._judges: dict[str, tuple[Any, Judge]] = {}
        self._scorers: dict[str, tuple[Any, Scorer]] = {}
        # a digest of (profile, site, post) -> when its warning was first logged: the post's id where the platform
        # gives one, else its categories and evidence on that site (never its text)
        self._shown = ShownPosts(runtime.paths.shown_warnings, StoredSalt(runtime))
        runtime.shown_posts = self._shown

    def running(self) -> None:
        """Build every profile's judge (and load the classifier's lexicon) on a worker, not on the first page."""
        self._shown.load(datetime.now(UTC))
        rules = self.runtime.current_rules()
        if rules is not None:
            asyncio.get_running_loop().run_in_executor(None, self._warm, list(rules.profiles.values()))

    def done(self) -> None:
        self._shown.save(datetime.now(UTC))

    def _warm(self, profiles: list[Any]) -> None:
        for profile in profiles:
            self.judge_for(profile)

    def judge_for(self, profile: Any) -> Judge:
        """One cached judge per profile, rebuilt when the rules (and so the profile) change."""
        cached = self._judges.get(profile.name)
        if cached is None or cached[0] is not profile:
            cached = (profile, profile_judge(profile))
            self._judges[profile.name] = cached
        return cached[1]

    async def response(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or flows.site_of(flow) is None or flows.is_breather_answer(flow):
            return
        if not flows.has_full_body(response):
            return
        adapter = adapter_for(
            str(flow.metadata.get(flows.ADAPTER, "generic")), flow.request.path, flows.media_type(response)
        )
        if adapter is None:
            return
        if flows.media_type(response) == "text/html" and not flows.is_document_request(flow):
            return
        # Counted from here on: a response Breather would have read (not every large image or video of the site).
        if is_streamed(response) or response.raw_content is None:
            if streamed_for_its_size(response):
                self.runtime.counters.increment("passed_over_cap")
            return
        if len(response.raw_content) > self.runtime.settings["body_size_cap"]:
            self.runtime.counters.increment("passed_over_cap")
            return
        with original_on_error(self.runtime, flow, f"{adapter.name} adapter"):
            await self._rewrite(flow, response, adapter)

    async def _rewrite(self, flow: http.HTTPFlow, response: http.Response, adapter: Any) -> None:
        profile = self.profile_for(flow)
        flow.metadata[flows.JUDGED_UNDER] = judged_state(profile, flow)
        soothes = self._soothes(flow, response, profile)
        if not profile.warns and not soothes:  # someone who switched every warning off pays nothing for them,
            return  # not even the decoding
        body = self._decoded_within_cap(response)
        if body is None:
            return
        if profile.warns:
            result = await asyncio.to_thread(adapter.rewrite, body, self.context_for(flow, adapter))
            if result is not None:
                replace_body(response, self._with_its_nonce_allowed(flow, response, result.body))
                self.runtime.counters.increment("rewritten")
                self.runtime.counters.increment("warnings_marked", len(result.marked))
                self.log_marked(flow, result.marked)
                body = result.body
        if soothes:
            await self._soothe(flow, response, body, profile)

    @staticmethod
    def _with_its_nonce_allowed(flow: http.HTTPFlow, response: http.Response, body: bytes) -> bytes:
        """A marked page's warnings stylesheet and reveal script carry the flow's nonce: the page's CSP (headers and
        ``<meta>``) allows it here, whether or not the overlay comes after (it leaves a page the marks pushed over
        the size cap alone, and a review found its posts covered for good there, "Show post" blocked)."""
        if flows.media_type(response) != "text/html":
            return body
        nonce = flows.nonce_for(flow)
        add_nonce_to_headers(response, nonce)
        return add_nonce_to_meta(body, nonce)

    def _decoded_within_cap(self, response: http.Response) -> bytes | None:
        """The body to read, or None when it goes out as it came, counted: cut off on its way (``passed_truncated``),
        corrupt or in a coding Breather does not read (``passed_undecodable``), or over the cap once decoded."""
        cap = self.runtime.settings["body_size_cap"]
        decoded = decode_body(response, cap)  # decoding stops at the cap: a small body can expand enormously
        if decoded.body is None:
            if decoded.problem is not None:
                self.runtime.counters.increment(PASSED_COUNTERS[decoded.problem])
            return None
        if len(decoded.body) > cap:
            self.runtime.counters.increment("passed_over_cap")
            return None
        return decoded.body

    async def _soothe(self, flow: http.HTTPFlow, response: http.Response, body: bytes, profile: Any) -> None:
        """Calm (JSON, Mastodon's stream, YouTube's page data) and uplift (JSON feed pages) a response after
        its warnings; any failure leaves it as it was."""
        media = flows.media_type(response)
        calm = bool(flow.metadata.get(flows.CALM_WINDOW))
        name = str(flow.metadata.get(flows.ADAPTER, "generic"))
        budget_s = self.runtime.settings["classify_budget_ms"] / 1000
        # A page reordered only in part must not be kept by the browser as read (Validators drops its validators).
        scorer = budgeted(self.scorer_for(profile), budget_s, lambda: flow.metadata.update({flows.READ_IN_PART: True}))
        path = flow.request.path
        try:
            soothed = await asyncio.to_thread(soothe_body, body, name, path, media, profile.uplift, calm, scorer)
        except Exception:
            log.exception("calm/uplift failed on a response from %s; sending it as it was", flow.request.host)
            self.runtime.counters.increment("passed_after_error")
            flow.metadata[flows.READ_IN_PART] = True
            return
        if soothed is not None:
            replace_body(response, soothed)

    @staticmethod
    def _soothes(flow: http.HTTPFlow, response: http.Response, profile: Any) -> bool:
        """Whether calm or uplift may change this response (a calm window, or uplift on for a JSON feed)."""
        media = flows.media_type(response)
        if not is_calmable(media):
            return False
        return bool(flow.metadata.get(flows.CALM_WINDOW)) or (profile.uplift != "off" and is_json(media))

    def scorer_for(self, profile: Any) -> Scorer:
        cached = self._scorers.get(profile.name)
        if cached is None or cached[0] is not profile:
            cached = (profile, default_scorer(own_keywords(profile), dict(profile.sensitivity)))
            self._scorers[profile.name] = cached
        return cached[1]

    def profile_for(self, flow: http.HTTPFlow) -> Any:
        rules = self.runtime.current_rules()
        return rules.profile(flows.profile_of(flow) or rules.default_profile)

    def context_for(self, flow: http.HTTPFlow, adapter: Any, *, most_ms: int | None = None) -> AdapterContext:
        """What the adapter needs for this flow; ``most_ms`` lowers the classify budget (never raises it)."""
        profile = self.profile_for(flow)
        budget_ms = self.runtime.settings["classify_budget_ms"]
        budget_s = (budget_ms if most_ms is None else min(budget_ms, most_ms)) / 1000
        judge = budgeted(self.judge_for(profile), budget_s, lambda: self._budget_ran_out(flow))
        hidden = flow.metadata.get(flows.HIDDEN_TOPICS, frozenset())
        return AdapterContext(
            judge=judge,
            screen=profile_screen(profile),
            hidden_topics=frozenset(hidden),
            # HTML notes and Mastodon's CW text show a helpline; the other JSON adapters set only a flag, so they are
            # spared the look-up (~0.03 ms: the merged table is kept until the file changes).
            crisis=crisis_for(profile, self.runtime.paths.config_dir) if shows_helpline(adapter) else None,
            nonce=flows.nonce_for(flow),
            learn_url=content_warnings_guide_url(self.runtime),
            charset=flows.charset(flow.response) if flow.response is not None else "",
        )

    def _budget_ran_out(self, flow: http.HTTPFlow) -> None:
        """Counted, and noted on the flow: posts past the budget went out unmarked; a later reading may mark them."""
        self.runtime.counters.increment("classify_budget_hit")
        flow.metadata[flows.READ_IN_PART] = True

    def log_marked(self, flow: http.HTTPFlow, marked: list[Marked]) -> None:
        if not marked:
            return
        from breather.store.model import Event

        profile = flows.profile_of(flow) or "default"
        site = flows.site_of(flow)
        now = datetime.now(UTC)
        marked = self._first_showings(profile, site, marked, now)
        if not marked:
            return
        for item in marked:
            detail = {"field": item.field, "collapsed": item.collapsed}
            category = event_label(item.category)
            self.runtime.log_event(Event(profile, "warning_shown", now, site, category, detail))
        heavy = sum(1 for item in marked if item.heavy)
        if heavy:
            self.runtime.sessions.update(profile, lambda s: s.recent_warnings.extend([now] * heavy))
        self._keep_shown(now)

    def _keep_shown(self, now: datetime) -> None:
        """Write the list of posts shown as their events are logged, so a crash does not count them again (a soak test:
        it was written only at a clean stop); off the event loop when there is one."""
        snapshot = self._shown.snapshot(now)
        try:
            asyncio.get_running_loop().run_in_executor(None, self._shown.write, *snapshot)
        except RuntimeError:  # no loop running here: write now
            self._shown.write(*snapshot)

    def _first_showings(self, profile: str, site: str | None, marked: list[Marked], now: datetime) -> list[Marked]:
        """The marks of posts not shown to this person in the last SHOWN_FOR_HOURS."""
        return [
            item
            for item in marked
            if self._shown.first_time(repr((profile, site, item.post_id or (item.categories, item.evidence))), now)
        ]


class StoredSalt:
    """Where the key of ShownPosts' digests is kept: the store's ``meta`` table (readable by its owner only, never
    exported), not the file of digests. Written through the store's one writer."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def read(self) -> bytes | None:
        from breather.store.db import open_database
        from breather.store.queries import get_meta

        if not self.runtime.paths.database.exists():
            return None
        db = open_database(self.runtime.paths.database)
        try:
            value = get_meta(db, SALT_META_KEY)
        finally:
            db.close()
        return bytes.fromhex(value) if value else None

    def keep(self, salt: bytes) -> bool:
        """Store ``salt`` in place of any other and wait for the commit: digests made with it are written next."""
        from breather.store.queries import set_meta

        writer = self.runtime.writer
        if writer is None:
            return False
        if writer.trouble is not None:  # waiting would hold a stop for the whole time-out (a damaged store did)
            log.warning("could not keep the key of the list of warned posts already shown: the store cannot save now")
            return False
        stored = writer.call(lambda db: set_meta(db, SALT_META_KEY, salt.hex()), timeout=SALT_KEEP_TIMEOUT_S)
        try:
            stored.result(SALT_KEEP_TIMEOUT_S)
        except Exception as exc:
            said = str(exc) or f"no answer within {SALT_KEEP_TIMEOUT_S:.0f} s"
            log.warning("could not keep the key of the list of warned posts already shown: %s", said)
            return False
        return True

    def drop(self) -> None:
        """Forget the key (its digests are gone): queued, not waited for."""
        if self.runtime.writer is not None:
            self.runtime.writer.call(lambda db: db.execute("DELETE FROM meta WHERE key = ?", [SALT_META_KEY]))


class ShownPosts:
    """Which warned posts a person was already shown, by a keyed digest (no post id, text or address is kept).

    Kept in memory, and in a small file across a restart (a user test restarted the service and the same three
    posts were counted again each time: in the review, and toward the heavy-run break). The key is random and is
    kept in the store (``StoredSalt``), never in the file: a post id is public, so with the key beside them anyone
    holding the file could test each post of a feed and learn which ones a member was warned about, and when (a
    review did). Whoever can read both the file and the store can still do that. The key is stored before the
    first file made with it is written; a file without its key, or one that cannot be read, is ignored (a few posts
    counted twice is the worst case). Entries expire after SHOWN_FOR_HOURS; deleting the file ("Delete everything",
    ``breather delete --all``) also drops the key (``queries.delete_usage`` deletes its ``meta`` row).
    """

    def __init__(self, path: Path, salts: StoredSalt | None = None) -> None:
        self.path = path
        self._salts = salts
        self._salt = secrets.token_bytes(16)
        self._salt_kept = False  # whether ``_salt`` is the one in the store, so files made with it can be read back
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._writing = threading.Lock()
        # held from choosing the key to storing it (or dropping it): a delete meanwhile cannot leave an old key stored
        self._keying = threading.Lock()
        self._taken = self._written = 0

    def first_time(self, key: str, now: datetime) -> bool:
        digest = hashlib.blake2b(key.encode(), key=self._salt, digest_size=12).hexdigest()
        seen = self._seen.get(digest)
        if seen is not None and seen >= now - timedelta(hours=SHOWN_FOR_HOURS):
            return False
        self._seen[digest] = now
        self._seen.move_to_end(digest)
        while len(self._seen) > SHOWN_MEMORY:
            self._seen.popitem(last=False)
        return True

    def forget(self) -> None:
        """After "Delete everything": nothing shown before stays, nor the key of its digests, and a snapshot taken
        before it but still queued for a worker must not write the file back."""
        with self._keying:
            with self._writing:
                self._seen.clear()
                self._written = self._taken
                self._salt = secrets.token_bytes(16)
                self._salt_kept = False
                try:
                    self.path.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("could not delete the list of warned posts already shown (%s): %s", self.path, exc)
            if self._salts is not None:
                self._salts.drop()

    def load(self, now: datetime) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            seen = {digest: datetime.fromisoformat(at) for digest, at in data["seen"].items()}
            in_file = data.get("salt")  # where an earlier version kept it
            salt = bytes.fromhex(in_file) if in_file else self._stored_salt()
        except FileNotFoundError:
            if self._salts is not None:
                self._salts.drop()  # the file was deleted (`breather delete --all`): its key goes too
            return
        except (OSError, ValueError, KeyError, TypeError, AttributeError, sqlite3.Error, RecursionError) as exc:
            log.warning("ignoring an unreadable list of warned posts already shown (%s): %s", self.path, exc)
            return
        if not salt:
            log.warning("ignoring a list of warned posts already shown whose key is not kept (%s)", self.path)
            return
        since = now - timedelta(hours=SHOWN_FOR_HOURS)
        self._salt = salt
        self._salt_kept = not in_file
        self._seen = OrderedDict(sorted((item for item in seen.items() if item[1] >= since), key=lambda item: item[1]))
        if in_file:  # written again at once, its key moved into the store
            self.save(now)

    def _stored_salt(self) -> bytes | None:
        return self._salts.read() if self._salts is not None else None

    def save(self, now: datetime) -> None:
        self.write(*self.snapshot(now))

    def snapshot(self, now: datetime) -> tuple[int, datetime, list[tuple[str, datetime]]]:
        """The list as of ``now``, numbered: a plain copy, taken where the list changes (the event loop); writing it
        out (up to SHOWN_MEMORY entries as JSON, milliseconds) is ``write``'s, on a worker."""
        with self._writing:
            self._taken += 1
            return self._taken, now, list(self._seen.items())

    def write(self, number: int, now: datetime, seen: list[tuple[str, datetime]]) -> None:
        """Write a snapshot unless a later one is already written (writes may finish out of order on workers), once
        the key of its digests is in the store."""
        with self._keying:
            with self._writing:
                if number <= self._written:
                    return
                salt, kept = self._salt, self._salt_kept
            if not kept and not (self._salts is not None and self._salts.keep(salt)):
                return  # without its key kept, the file could not be read back: better not written at all
        since = now - timedelta(hours=SHOWN_FOR_HOURS)
        text = json.dumps({"seen": {digest: at.isoformat() for digest, at in seen if at >= since}})
        with self._writing:
            if number <= self._written or salt != self._salt:  # a delete came in between: not written back
                return
            self._salt_kept = True
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # private too: it still says how many warned posts a member was shown, and when
                write_atomically(self.path, text, mode=PRIVATE_FILE)
                self._written = number
            except OSError as exc:
                log.warning("could not keep the list of warned posts already shown (%s): %s", self.path, exc)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def content_warnings_guide_url(runtime: Runtime) -> str | None:
    """The dashboard's guide, when a browser of this machine can open it (the dashboard listens on loopback only,
    so a household member's other device could not: in LAN mode there is no link)."""
    if runtime.web_port is None or runtime.settings.get("listen_host", "127.0.0.1") not in LOOPBACK_HOSTS:
        return None
    return f"http://127.0.0.1:{runtime.web_port}/learn/content-warnings"


def event_label(category: str) -> str:
    """The store takes short ASCII labels only; a user's own topic may contain spaces or letters of any script."""
    cleaned = "".join(char if (char.isascii() and char.isalnum()) or char in "_.:-" else "_" for char in category)
    return cleaned[:64] or "custom"


def shows_helpline(adapter: Any) -> bool:
    """Whether the adapter writes text the person reads before the post (an HTML note, Mastodon's CW), where a
    helpline can go; Reddit's, X's and Bluesky's fields are flags, YouTube's prefix names the category only."""
    return not isinstance(adapter, JsonAdapter) or bool(getattr(adapter, "shows_helpline", False))


def crisis_for(profile: Any, config_dir: Path | None = None) -> Any:
    """The helpline for the profile's country (``rules.crisis.helpline_for``)."""
    return helpline_for(profile.country, config_dir)
