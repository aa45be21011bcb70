"""The validators of a response Breather read and left as it came say which rules it was judged under.

A response an adapter read with nothing in it to mark goes out with the site's body, and so with the site's ``ETag``.
After a rules change that would mark it now (a new topic, a higher sensitivity, a topic's quiet hours beginning) the
browser revalidated its cached copy with that ETag, the site answered 304, and the person saw the unmarked copy (a
review: Chromium and a JSON listing cached ``private, max-age=0``). An edited body has no validators at all
(``bodies.SITE_BODY_HEADERS``), so only an unedited one needs this.

So such a response's ETag carries a short digest of everything that decides the member's verdicts on it
(:func:`judged_state`): ``"abc"`` goes out as ``"abc~breather-1a2b3c4d5e6f"`` (a weak ``W/"abc"`` stays weak), and its
``Last-Modified`` is dropped (a date cannot carry the digest). On the way back, for an intercepted site:

* an ``If-None-Match`` (or ``If-Range``) tag of the state in force now has its digest taken off, so the site compares
  its own ETag and a 304 still saves the body; the 304 (or the 206 of that range) goes back with the tagged ETag, since
  a 304's ETag replaces the cached one;
* a tag of another state (the rules changed, another member on the same browser) is dropped; with nothing left the
  request goes unconditional (``If-Modified-Since`` goes too, which the site would weigh once ``If-None-Match`` is
  gone), and a stale ``If-Range`` takes its ``Range`` with it (what the site does when ``If-Range`` does not match:
  the whole body), so the site sends a 200 that Breather reads again;
* an ``If-Match`` tag loses its digest whatever the state: it asks about the site's resource, not Breather's reading.

A read response (and a 304 about one) also gets ``no-cache`` (:func:`ask_before_reuse`): a copy the site let the
browser keep fresh for a while (``max-age=600``) would otherwise be shown without any request, whatever the rules
became.

A response read only in part (the classify budget ran out, a step failed and put the original back) loses its
validators instead: a tag would vouch for a reading that was not done. A response not read at all (over the size cap,
streamed, a type no adapter reads) keeps the site's validators: no rules change alters what Breather makes of it. A
HEAD's answer loses its validators in ``HeadAnswers`` as before (whether the GET would be edited cannot be known
without its body); a conditional HEAD is treated as a GET is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from mitmproxy import http

from breather.proxy import flows
from breather.proxy.bodies import is_streamed
from breather.runtime import Runtime
from breather.version import code_fingerprint

log = logging.getLogger(__name__)

MARK = "~breather-"
STATE_LENGTH = 12
# One entity-tag of a list (RFC 9110 8.8.3; ``W/`` for weak), or a bare value some servers send unquoted.
LISTED_TAG = re.compile(r'\s*((?:W/)?(?:"[^"]*"|[^,"\s]+))\s*(?:,|$)')
TAGGED = re.compile(rf'^(?P<site>.*){re.escape(MARK)}(?P<state>[0-9a-f]{{{STATE_LENGTH}}})(?P<close>"?)$', re.DOTALL)
# flow.metadata: what the request's validators said once Breather took its digests off (``Asked``)
ASKED = "breather.asked"


@dataclass(frozen=True, slots=True)
class Asked:
    """The state in force when the request went to the site, the site's tags restored from tags of that state, and
    the tags the browser sent that were never Breather's."""

    state: str
    restored: frozenset[str]
    untouched: frozenset[str]


class ProfileDigests:
    """The digest of a profile's own settings, kept while the rules keep the same profile object (a member with
    thousands of keywords would otherwise pay for serialising them on every response)."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Any, str]] = {}

    def of(self, profile: Any) -> str:
        kept = self._kept.get(profile.name)
        if kept is None or kept[0] is not profile:
            kept = (profile, _digest(profile_facts(profile)))
            self._kept[profile.name] = kept
        return kept[1]


_profile_digests = ProfileDigests()


def profile_facts(profile: Any) -> dict[str, Any]:
    """What of a profile decides its verdicts on a post, a feed's order and its calm: who (per member, as tags are),
    their words, each category's sensitivity, uplift."""
    return {
        "member": profile.name,
        "keywords": list(profile.keywords),
        "topics": {name: list(phrases) for name, phrases in profile.topics.items()},
        "sensitivity": dict(profile.sensitivity),
        "uplift": profile.uplift,
    }


def judged_state(profile: Any, flow: http.HTTPFlow) -> str:
    """A short digest of everything that decides what Breather makes of this response for this member: the profile's
    own settings, the topics whose quiet hours are in force now, the calm window, the site's adapter, and the code
    (classifier, lexicon, model and adapters: ``code_fingerprint``)."""
    moment = {
        "profile": _profile_digests.of(profile),
        "hidden_topics": sorted(flow.metadata.get(flows.HIDDEN_TOPICS, ())),
        "calm": bool(flow.metadata.get(flows.CALM_WINDOW)),
        "adapter": str(flow.metadata.get(flows.ADAPTER, "generic")),
        "code": code_fingerprint(),
    }
    return _digest(moment)


def _digest(facts: dict[str, Any]) -> str:
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:STATE_LENGTH]


def tag(etag: str, state: str) -> str:
    """The site's ETag carrying ``state``, inside its quotes (a weak one stays weak)."""
    if len(etag) >= 2 and etag.endswith('"'):
        return f'{etag[:-1]}{MARK}{state}"'
    return f"{etag}{MARK}{state}"


def untag(etag: str) -> tuple[str, str] | None:
    """(the site's own ETag, the state) of a tag Breather made; None for any other."""
    found = TAGGED.match(etag)
    if found is None:
        return None
    return found["site"] + found["close"], found["state"]


def listed_tags(value: str) -> list[str] | None:
    """The entity-tags of an ``If-None-Match``/``If-Match`` value; None for ``*`` or what is not such a list."""
    tags: list[str] = []
    at = 0
    while at < len(value):
        found = LISTED_TAG.match(value, at)
        if found is None or found.end() == at:
            return None
        tags.append(found[1])
        at = found.end()
    return tags if tags and "*" not in tags else None


def opaque(etag: str) -> str:
    """The tag without its weakness: what RFC 9110's weak comparison compares."""
    return etag.strip().removeprefix("W/")


class Validators:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def running(self) -> None:
        """The code's fingerprint reads every file of the package once (~20 ms): not on the first response."""
        asyncio.get_running_loop().run_in_executor(None, code_fingerprint)

    def request(self, flow: http.HTTPFlow) -> None:
        """After ``Boundaries``: the topics in its quiet hours and the calm window are on the flow by now."""
        if flow.response is not None or flows.site_of(flow) is None or flows.is_local_api(flow):
            return
        headers = flow.request.headers
        if not any(MARK in headers.get(name, "") for name in ("if-none-match", "if-range", "if-match")):
            return
        original = headers.copy()
        try:
            self._ask_the_site_its_own(flow, headers)
        except Exception:
            log.exception("reading the validators of a request to %s failed; sending it as it came", flow.request.host)
            self.runtime.counters.increment("passed_after_error")
            flow.request.headers = original  # a tag the site never made matches nothing: a whole 200 comes back
            flow.metadata.pop(ASKED, None)

    def response(self, flow: http.HTTPFlow) -> None:
        """After every step that may edit the body (an edited one has lost its validators already)."""
        response = flow.response
        if response is None or flows.site_of(flow) is None or flows.is_breather_answer(flow) or is_streamed(response):
            return
        original = response.headers.copy()
        try:
            if response.status_code in (304, 206):
                self._tag_what_was_revalidated(flow, response)
            elif flows.has_full_body(response) and flows.JUDGED_UNDER in flow.metadata:
                self._tag_what_was_read(flow, response)
        except Exception:
            log.exception("tagging the validators of a response from %s failed; sending it without", flow.request.host)
            self.runtime.counters.increment("passed_after_error")
            response.headers = original
            drop_validators(response)  # no cache can then keep a copy from before a rules change

    def _ask_the_site_its_own(self, flow: http.HTTPFlow, headers: http.Headers) -> None:
        state = self._state_now(flow)
        restored: set[str] = set()
        untouched: set[str] = set()
        if MARK in headers.get("if-none-match", ""):
            self._none_match(headers, state, restored, untouched)
        if MARK in headers.get("if-range", ""):
            self._if_range(headers, state, restored)
        if MARK in headers.get("if-match", ""):
            self._if_match(headers)
        flow.metadata[ASKED] = Asked(state, frozenset(restored), frozenset(untouched))

    def _state_now(self, flow: http.HTTPFlow) -> str:
        rules = self.runtime.current_rules()
        return judged_state(rules.profile(flows.profile_of(flow) or rules.default_profile), flow)

    @staticmethod
    def _none_match(headers: http.Headers, state: str, restored: set[str], untouched: set[str]) -> None:
        tags = listed_tags(headers["if-none-match"])
        kept: list[str] = []
        for etag in tags or ():
            ours = untag(etag)
            if ours is None:
                kept.append(etag)
                untouched.add(opaque(etag))
            elif ours[1] == state:
                kept.append(ours[0])
                restored.add(opaque(ours[0]))
        if kept:
            headers["if-none-match"] = ", ".join(kept)
            return
        # every tag was of another state (or the value was not a list of tags): a whole 200, read again
        headers.pop("if-none-match", None)
        headers.pop("if-modified-since", None)

    @staticmethod
    def _if_range(headers: http.Headers, state: str, restored: set[str]) -> None:
        ours = untag(headers["if-range"].strip())
        if ours is not None and ours[1] == state:
            headers["if-range"] = ours[0]
            restored.add(opaque(ours[0]))
            return
        headers.pop("if-range", None)
        headers.pop("range", None)

    @staticmethod
    def _if_match(headers: http.Headers) -> None:
        tags = listed_tags(headers["if-match"])
        if tags is None:
            return
        headers["if-match"] = ", ".join(ours[0] if (ours := untag(etag)) is not None else etag for etag in tags)

    @staticmethod
    def _tag_what_was_revalidated(flow: http.HTTPFlow, response: http.Response) -> None:
        """A 304 (or a 206 of an ``If-Range``) about a copy Breather had tagged: the cache takes its ETag."""
        asked = flow.metadata.get(ASKED)
        if not isinstance(asked, Asked) or not asked.restored:
            return
        etag = response.headers.get("etag")
        if response.status_code == 304:
            about_ours = etag is None or opaque(etag) not in asked.untouched
        else:
            about_ours = etag is not None and opaque(etag) in asked.restored
        if not about_ours:
            return
        response.headers.pop("last-modified", None)
        ask_before_reuse(response)  # a 304's Cache-Control replaces the cached copy's too
        if etag is not None:
            response.headers["etag"] = tag(etag, asked.state)

    @staticmethod
    def _tag_what_was_read(flow: http.HTTPFlow, response: http.Response) -> None:
        ask_before_reuse(response)
        if flow.metadata.get(flows.READ_IN_PART):
            drop_validators(response)
            return
        response.headers.pop("last-modified", None)
        etag = response.headers.get("etag")
        if etag is not None:
            response.headers["etag"] = tag(etag, str(flow.metadata[flows.JUDGED_UNDER]))


def drop_validators(response: http.Response) -> None:
    response.headers.pop("etag", None)
    response.headers.pop("last-modified", None)


def ask_before_reuse(response: http.Response) -> None:
    """``no-cache`` added to the site's ``Cache-Control``: a copy the browser may keep must be revalidated before each
    use, so a rules change reaches it (a ``max-age=600`` listing was shown from the cache, judged under the old rules,
    with no request any proxy could see). A revalidation under the same rules is answered 304 by the site, so this
    costs a round trip, not the body. ``no-store`` and ``no-cache`` already say as much; ``no-cache="Set-Cookie"``
    (about one field) does not."""
    value = response.headers.get("cache-control", "")
    directives = {part.strip().lower() for part in value.split(",")}
    if directives & {"no-cache", "no-store"}:
        return
    response.headers["cache-control"] = f"{value}, no-cache" if value.strip() else "no-cache"
