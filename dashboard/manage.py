"""The pages that change things: Rules, Requests, Setup and Data. Every form carries the CSRF token; rule changes,
approvals and deletion also need the household passphrase."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from breather import autostart, pending_rules
from breather.dashboard import context, security
from breather.dashboard.db import get_db
from breather.dashboard.errors import ApiError
from breather.dashboard.pages import data as data_pages
from breather.dashboard.pages import extension, pairing, requests, rules_page, setup
from breather.net import address_for_other_devices
from breather.rules.errors import RulesError
from breather.rules.loader import default_rules_text
from breather.rules.model import Rules
from breather.rules.textfile import cannot_read, decode_rules_text, read_rules_text, readable_text
from breather.rules.timeparse import spoken_duration
from breather.rules.watcher import digest, write_private
from breather.store import usage

bp = Blueprint("manage", __name__)
bp.before_request(security.check_form_request)


def _now() -> datetime:
    return context.now()


# --- Rules --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RulesFile:
    """The rules file as the Rules page reads it. A file that cannot be read as it is (not UTF-8, missing, a folder
    in its place) is said at the top of the page instead of failing it, and the raw editor starts from what can be
    saved: the file with U+FFFD for each byte that is not UTF-8, or the rules in force when there is no file."""

    text: str  # what the raw editor shows
    # "ok", "not_utf8", "missing", "unreadable" (a folder, no permission) or "broken_link" (a link to a file that is
    # not there): the last two have nothing to save over
    state: str = "ok"
    problem: RulesError | None = None  # why it cannot be read as it is
    in_force_copy: bool = False  # "missing": ``text`` is the copy of the rules in force (else the default rules)
    folder: bool = False  # "unreadable": a folder is in its place
    link_target: str | None = None  # "broken_link": where the link points

    @property
    def readable(self) -> bool:
        return self.state == "ok"

    @property
    def nothing_to_save_over(self) -> bool:
        return self.state in ("unreadable", "broken_link")

    @property
    def form_text(self) -> str | None:
        """What a member's form edits: the file, or without one the rules in force; None when a file is there that
        does not read (a form must not write over it)."""
        return self.text if self.readable or (self.state == "missing" and self.in_force_copy) else None


def _read_rules_file() -> RulesFile:
    path = context.paths().rules_file
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        target = _missing_link_target(path)
        if target is not None:
            return RulesFile("", "broken_link", link_target=target)
        copy = _in_force_copy()
        return RulesFile(default_rules_text() if copy is None else copy, "missing", in_force_copy=copy is not None)
    except OSError as exc:
        return RulesFile("", "unreadable", cannot_read(path, exc), folder=_is_folder(path))
    try:
        text = decode_rules_text(data, path.name)
    except RulesError as exc:
        return RulesFile(readable_text(data), "not_utf8", exc)
    return RulesFile(text)


def _missing_link_target(path: Path) -> str | None:
    """Where ``path`` links to when it is a symbolic link to nothing (a dotfiles repository moved, a drive not
    mounted); None when it is no link. Saving through such a link failed with a server error (its temporary file
    was to go in a folder that is not there); creating that folder would put a file in someone's dotfiles."""
    try:
        return str(path.parent / os.readlink(path)) if path.is_symlink() else None
    except OSError:
        return None


def _is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; False when even that cannot be told (a config folder the service may not search:
    Python 3.12's ``is_dir`` raises for it, and the Rules page was a 500 instead of saying the file cannot be read)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _in_force_copy() -> str | None:
    """The copy of the rules in force that the service's watcher keeps (None without one)."""
    try:
        return read_rules_text(context.paths().last_good_rules)
    except RulesError:
        return None


@bp.get("/rules")
def rules() -> Response:
    current = context.current_rules()
    if _read_rules_file().readable:  # a change due waits while the file cannot be read; the page says why
        pending_rules.apply_due_changes(get_db(), context.paths().rules_file, context.write, _now())
    shown = _read_rules_file()
    return _rules_page(current, shown, shown.text, _forms(current, shown.form_text or ""))


@bp.post("/rules")
def rules_submit() -> BaseResponse:
    """One form posts either the raw TOML or one profile's common settings; ``action`` says preview, dry run or save.
    A refused edit (the rules file broken, no passphrase or a wrong one, a field that does not read) shows the page
    again with what was typed in it, and why at the top: an error page would lose the edit."""
    return _handle_rules_form(_submit_rules)


def _handle_rules_form(handle: Callable[[Rules, RulesFile], BaseResponse]) -> BaseResponse:
    """Runs a Rules page form's ``handle`` with the rules in force and the rules file as read. A file with nothing to
    save over refuses every form; a refused change shows the page again, as typed, with why at the top."""
    current = context.current_rules()
    try:
        shown = _read_rules_file()
        if shown.nothing_to_save_over:
            raise ApiError(409, "RulesFileUnreadable", _nothing_to_save_over(shown))
        return handle(current, shown)
    except ApiError as refused:
        return _rules_refused(current, refused)


def _submit_rules(current: Rules, shown: RulesFile) -> BaseResponse:
    path = context.paths().rules_file
    profile = request.form.get("profile")
    typed = None
    hidden_problems: list[rules_page.ProblemView] = []
    action = request.form.get("action", "preview")
    if profile:
        new_text = rules_page.edit_profile(_form_text(shown), profile, request.form)
    else:
        typed = _typed_text()
        new_text, hidden_problems = rules_page.keep_hidden_passwords(typed, shown.text, current, path.name)
        hidden_problems += rules_page.weak_typed_passwords(new_text, shown.text, path.name)
        if action == "save" and not hidden_problems:
            new_text = rules_page.hash_typed_passwords(new_text, shown.text, path.name)
    result = rules_page.check(new_text, path.name)
    if hidden_problems:
        result = rules_page.CheckResult(None, sorted(hidden_problems + result.problems, key=_place))
    if result.rules is not None and action in ("preview", "dry_run"):
        in_file = pending_rules.rules_or(shown.text, None)
        result = rules_page.explain(
            get_db(), current, result, _now(), dry_run=action == "dry_run", profile=profile, in_file=in_file
        )
    if action == "save" and result.rules is not None:
        if not profile:
            _refuse_if_changed_since_shown(shown.text)
        security.require_passphrase(request.form.get("passphrase", ""))
        old_text = _write_readable(path, shown)
        outcome = _save(path, old_text, new_text, current, result.rules)
        flash(outcome, "ok")
        return redirect(url_for("manage.rules"))
    # The posted form as typed, and as first shown: saving it from this page must still write what was changed.
    forms = rules_page.as_typed(_forms(result.rules or current, new_text), profile, request.form)
    status = 200 if result.rules is not None else 422
    return _rules_page(current, shown, new_text, forms, result=result, status=status, typed=typed)


def _typed_text() -> str:
    return request.form.get("text", "").replace("\r\n", "\n")


def _place(problem: rules_page.ProblemView) -> tuple[int, int]:
    return problem.line, problem.column


def _save(path: Path, old_text: str, new_text: str, old: Rules, new: Rules) -> str:
    try:
        return pending_rules.save(get_db(), path, old_text, new_text, old, new, context.write, _now())
    except pending_rules.RulesChanged as exc:
        raise ApiError(409, "RulesChanged", str(exc)) from None


@bp.post("/rules/household")
def household_submit() -> BaseResponse:
    """The household form: the country crisis lines are for. Saved like the member forms (CSRF, passphrase, through
    ``pending_rules.save``); a country neither loosens nor tightens a boundary, so it applies at once."""
    return _handle_rules_form(_save_household)


def _save_household(current: Rules, shown: RulesFile) -> BaseResponse:
    path = context.paths().rules_file
    code = rules_page.chosen_country(request.form)
    new_text = rules_page.set_country(_form_text(shown), code)
    result = rules_page.check(new_text, path.name)
    if result.rules is None:
        raise ApiError(400, "InvalidField", "; ".join(problem.text for problem in result.problems))
    security.require_passphrase(request.form.get("passphrase", ""))
    old_text = _write_readable(path, shown)
    outcome = _save(path, old_text, new_text, current, result.rules)
    table, _ = rules_page.crisis_table(context.paths().config_dir)
    shown_now = rules_page.crisis_text(code, table)
    # said in the form the page opens at: at the top of the page it was out of sight (a user test)
    flash(f"{outcome} Self-harm and eating-disorder warnings now show: {shown_now}.", "at-household")
    return redirect(url_for("manage.rules") + "#household")


FORM_NEEDS_A_READABLE_FILE = (
    "the rules file cannot be read as it is (said at the top), so a form cannot be applied to it. Fix it in the "
    "rules file at the bottom of this page and Save it there, then make this change again"
)


def _form_text(shown: RulesFile) -> str:
    if shown.form_text is None:
        raise ApiError(409, "RulesFileUnreadable", FORM_NEEDS_A_READABLE_FILE)
    return shown.form_text


def _nothing_to_save_over(shown: RulesFile) -> str:
    path = context.paths().rules_file
    if shown.link_target is not None:
        return (
            f"{path} links to {shown.link_target}, which does not exist, so nothing can be saved there. Put the file "
            f"back (or the folder it is in), or replace the link with a copy of {context.paths().last_good_rules} "
            "(the rules in force), then open this page again"
        )
    what = f"{path} is a folder, not a file" if shown.folder else f"the rules file cannot be read ({shown.problem})"
    return f"{what}, so nothing can be saved over it. Move or rename it, then open this page again"


def _write_readable(path: Path, shown: RulesFile) -> str:
    """The text a save from this page is measured from (``pending_rules.save`` compares it with the file as read):
    for a file that is missing or not UTF-8, the rules in force, written to the file first, so that what the edit
    loosens waits as from any other file."""
    if shown.readable:
        return shown.text
    base = _in_force_copy() or shown.text
    write_private(path, base)
    return base


CHANGED_SINCE_SHOWN = (
    "the rules file was changed after this page showed it (by hand, or saved from another page), and saving this "
    "text would undo that change. What you typed is kept below; open the Rules page in another tab to see the file "
    "as it is now, and save again if your text should replace it"
)


def _refuse_if_changed_since_shown(file_text: str) -> None:
    """The raw editor posts the hash of the text it showed; a file edited since would be silently undone. The text
    shown has its passwords hidden: a change of a password alone is kept anyway (a hidden one is put back as the file
    has it when saved), and a hash of the file itself would let a plain password be guessed offline."""
    shown = request.form.get("text_sha")
    if shown and shown != digest(rules_page.hide_passwords(file_text)):
        raise ApiError(409, "RulesChanged", CHANGED_SINCE_SHOWN)


def _forms(rules: Rules, text: str) -> list[rules_page.ProfileForm]:
    return rules_page.profile_forms(rules, text, context.held_changes(), _now())


def _rules_refused(current: Rules, refused: ApiError) -> Response:
    profile = request.form.get("profile")
    shown = _read_rules_file()
    typed = None if profile or "text" not in request.form else _typed_text()
    text = shown.text if typed is None else rules_page.keep_hidden_passwords(typed, shown.text, current)[0]
    posted: Mapping[str, str] = request.form
    if refused.kind == "RulesChanged":
        # shown again as the file is now: a second save knowingly writes what was typed, as the raw editor's does
        posted = {key: value for key, value in request.form.items() if not key.startswith("shown_")}
    forms = rules_page.as_typed(_forms(current, shown.form_text or ""), profile, posted)
    response = _rules_page(current, shown, text, forms, refused=refused, status=refused.status, typed=typed)
    response.headers.update(refused.headers)
    return response


def _rules_page(
    current: Rules,
    shown: RulesFile,
    text: str,
    forms: list[rules_page.ProfileForm],
    *,
    result: rules_page.CheckResult | None = None,
    refused: ApiError | None = None,
    status: int = 200,
    typed: str | None = None,
) -> Response:
    """The Rules page. Without a checked edit of its own, the editor's text (the file) is checked: while it does not
    load, its problems are listed at the top and their lines marked in the editor. The editor shows ``typed`` (the
    raw editor's text as posted) or else ``text`` with every stored password hidden."""
    db = get_db()
    file_problems = [] if result is not None else _file_problems(shown, text)
    marked = {problem.line for problem in (result.problems if result is not None else file_problems)}
    table, table_problem = rules_page.crisis_table(context.paths().config_dir)
    posted = request.form if request.method == "POST" and request.endpoint == "manage.household_submit" else None
    page = render_template(
        "rules.html",
        household=rules_page.household_form(shown.form_text, current, table, posted),
        crisis_table_problem=table_problem,
        other_country=rules_page.OTHER_COUNTRY,
        text=rules_page.hide_passwords(text) if typed is None else typed,
        hidden_password=rules_page.HIDDEN_PASSWORD,
        forms=forms,
        pending=pending_rules.pending_changes(db),
        dropped=pending_rules.dropped_changes(db, _now()),
        zone=current.zone(),
        cooling_off_text=spoken_duration(current.cooling_off),
        minutes=usage.minutes_text,
        result=result,
        file_problems=file_problems,
        marked_lines=marked,
        refused=refused,
        refused_message=refused.message.removesuffix("; nothing was changed") if refused else None,
        passphrase_set=security.passphrase_is_set(db),
        text_sha=_shown_sha(refused, shown),
        rules_file=shown,
        rules_path=str(context.paths().rules_file),
        in_force_path=str(context.paths().last_good_rules),
    )
    return Response(page, status=status, mimetype="text/html")


def _file_problems(shown: RulesFile, text: str) -> list[rules_page.ProblemView]:
    """The editor's text checked, after why the file could not be read as it is (a byte that is not UTF-8)."""
    if shown.nothing_to_save_over:
        return []
    unread = shown.problem.problems if shown.problem is not None else ()
    views = [rules_page.problem_view(problem) for problem in unread]
    return views + rules_page.check(text, context.paths().rules_file.name).problems


def _shown_sha(refused: ApiError | None, shown: RulesFile) -> str:
    """The hash of the file the raw editor's text was based on: carried through previews, and the file as it is
    now on a fresh page or once the person has been told it changed."""
    posted = request.form.get("text_sha") if request.method == "POST" else None
    if posted and not (refused is not None and refused.kind == "RulesChanged"):
        return posted
    return digest(rules_page.hide_passwords(shown.text))


# --- Requests -----------------------------------------------------------------------------------------------------


@bp.get("/requests")
def requests_page() -> str:
    return _requests_page()


def _requests_page(problem: ApiError | None = None, ask_id: int | None = None, reason: str = "") -> str:
    """The Requests page; after a refused answer, the problem beside that ask and the reason as typed (a user test
    lost a typed reason to a mistyped passphrase on a page of its own)."""
    db = get_db()
    now = _now()
    rules = context.current_rules()
    zone = rules.zone()
    pending = requests.pending(db, now)
    answered = requests.answered(db, now, zone)
    return render_template(
        "requests.html",
        pending=pending,
        answered=answered,
        asked={ask.event_id: requests.when_asked(ask.at, now, zone) for ask in [*pending, *answered]},
        site_of=lambda host: usage.site_label(rules, host),  # "reddit", as History and the confirmation say
        earlier_day={ask.event_id for ask in pending if requests.asked_on_an_earlier_day(ask, now, zone)},
        grants=requests.grant_labels(now, rules),
        zone=zone,
        problem=problem.as_sentence() if problem is not None else None,
        problem_ask=ask_id,
        typed_reason=reason,
    )


def _answered_here(error: ApiError) -> bool:
    """A mistake in what was typed is answered on the form's own page; a pause after many wrong passphrases
    (429, with when to try again) and anything else keep their own page."""
    return error.status in (400, 403) and error.kind != "CrossSiteRequest"


@bp.post("/requests/<int:event_id>/approve")
def approve(event_id: int) -> BaseResponse:
    ask = requests.find(get_db(), event_id)
    now = _now()
    minutes, until = requests.grant_until(request.form.get("grant", ""), now, context.current_rules())
    try:
        security.require_passphrase(request.form.get("passphrase", ""))
    except ApiError as refused:
        if not _answered_here(refused):
            raise
        return Response(_requests_page(refused, ask.event_id), status=refused.status)
    row = requests.answer_row(ask, "approved", now, None, minutes, until)
    context.write(lambda db: db.table("time_answers").insert(row))
    context.writer().event(requests.answer_event(ask, "approved", now, minutes))
    requests.apply_grant(context.runtime(), ask, until)
    flash(requests.said_yes(ask, until, context.current_rules()), "ok")
    return redirect(url_for("manage.requests_page"))


@bp.post("/requests/<int:event_id>/decline")
def decline(event_id: int) -> BaseResponse:
    ask = requests.find(get_db(), event_id)
    reason = request.form.get("reason", "").strip()
    try:
        if not reason or len(reason) > 300:
            raise ApiError(400, "ReasonNeeded", "say why in a few words (at most 300 characters)")
        security.require_passphrase(request.form.get("passphrase", ""))
    except ApiError as refused:
        if not _answered_here(refused):
            raise
        return Response(_requests_page(refused, ask.event_id, reason), status=refused.status)
    now = _now()
    row = requests.answer_row(ask, "declined", now, reason, None, None)
    context.write(lambda db: db.table("time_answers").insert(row))
    context.writer().event(requests.answer_event(ask, "declined", now, None))
    flash(f"Declined {ask.profile}'s ask, with your reason.", "ok")
    return redirect(url_for("manage.requests_page"))


# --- Setup --------------------------------------------------------------------------------------------------------


@bp.get("/setup")
def setup_page() -> str:
    return _setup_page()


def _setup_page(problem: ApiError | None = None) -> str:
    """The Setup page; after a refused passphrase change, the problem beside its form."""
    current = context.current_rules()
    db = get_db()
    settings = current_app.config["SETTINGS"]
    host, port = extension.proxy_endpoint(settings, context.runtime())
    return render_template(
        "setup.html",
        ca_ready=context.paths().ca_certificate.exists(),
        pac_url=url_for("api.pac", _external=True),
        proxy_host=host,
        proxy_port=port,
        other_devices_host=address_for_other_devices(str(settings.get("listen_host", "127.0.0.1"))),
        members=setup.member_settings(current),
        codes=pairing.active_codes(db),
        paired=pairing.paired_browsers(db),
        passphrase_set=security.passphrase_is_set(db),
        check=setup.live_check(db, current, context.runtime(), request.args.get("check"), _now()),
        guides=setup.TRUST_STEPS,
        login_entries=autostart.installed(),
        autostart_command=autostart.enable_command(context.paths(), settings),
        passphrase_problem=problem.as_sentence() if problem is not None else None,
        crisis_lines=rules_page.household_lines(current, rules_page.crisis_table(context.paths().config_dir)[0]),
    )


@bp.get("/setup/ca.pem")
def ca_certificate() -> Response:
    path = context.paths().ca_certificate
    if not path.exists():
        raise ApiError(404, "NoCertificateYet", "the certificate is made the first time Breather runs; start it first")
    response = Response(path.read_bytes(), mimetype="application/x-x509-ca-cert")
    response.headers["Content-Disposition"] = 'attachment; filename="breather-ca.pem"'
    return response


@bp.post("/setup/pair")
def make_pairing_code() -> BaseResponse:
    member = request.form.get("member", "")
    if member not in context.current_rules().profiles:
        raise ApiError(400, "UnknownMember", f"there is no member called {member}")
    if security.passphrase_is_set(get_db()):
        # A paired browser reports time as that member: without this, a teen could pair theirs as a parent.
        security.require_passphrase(request.form.get("passphrase", ""))
    ttl = int(current_app.config["PAIRING_CODE_TTL_S"])
    now = _now()  # here: the write runs on the writer's thread, outside the request
    code = context.write(lambda db: pairing.create_code(db, member, ttl, now=now))
    flash(f"Pairing code for {member}: {code} (valid for {ttl // 60} minutes).", "ok")
    return redirect(url_for("manage.setup_page") + "#pairing")


@bp.post("/setup/revoke")
def revoke_browser() -> BaseResponse:
    """Unpairing only takes access away, so the session's CSRF token is enough (no passphrase)."""
    digest = request.form.get("token_hash", "")
    now = _now()
    if not context.write(lambda db: pairing.revoke(db, digest, now)):
        raise ApiError(404, "UnknownBrowser", "that browser is not paired (any more)")
    flash("That browser is unpaired; its extension must be paired again to report anything.", "ok")
    return redirect(url_for("manage.setup_page") + "#pairing")


@bp.post("/setup/passphrase")
def set_passphrase() -> BaseResponse:
    new = request.form.get("new_passphrase", "")
    try:
        if new != request.form.get("confirm_passphrase", ""):
            raise ApiError(400, "PassphraseMismatch", "the two new passphrases differ; nothing was changed")
        row = security.new_passphrase_row(new, request.form.get("passphrase"))
    except ApiError as refused:
        if not _answered_here(refused):
            raise
        return Response(_setup_page(refused), status=refused.status)
    context.write(lambda db: db.table("household").upsert(row, pk="key"))
    flash("The household passphrase is set.", "ok")
    return redirect(url_for("manage.setup_page"))


# --- Data ---------------------------------------------------------------------------------------------------------


@bp.get("/data")
def data() -> str:
    db = get_db()
    return render_template(
        "data.html",
        counts=data_pages.counts(db),
        meanings=data_pages.MEANINGS,
        retention=context.current_rules().retention_days,
        zone=str(context.current_rules().zone()),
        passphrase_set=security.passphrase_is_set(db),
        members=data_pages.members(db),
    )


@bp.post("/data/export")
def export_everything() -> Response:
    """Every member's records (or one member's) in one file: behind the household passphrase once one is set, as
    deleting them is."""
    fmt = request.form.get("format", "json")
    if fmt not in data_pages.DOWNLOADS:
        raise ApiError(400, "UnknownFormat", f"choose one of {', '.join(data_pages.DOWNLOADS)}")
    db = get_db()
    member = _member_with_records(request.form.get("member", "")) if request.form.get("member") else None
    if security.passphrase_is_set(db):
        security.require_passphrase(request.form.get("passphrase", ""))
    disposition, mimetype = data_pages.download(fmt, member)
    body = data_pages.export_body(db, fmt, context.current_rules().zone(), _now(), member)
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/data/delete")
def delete_everything() -> BaseResponse:
    _confirmed_with_passphrase()
    removed = context.write(partial(data_pages.delete_everything, at=_now()))
    return _deleted(removed, None)


@bp.post("/data/delete-member")
def delete_member() -> BaseResponse:
    member = _member_with_records(request.form.get("member", ""))
    _confirmed_with_passphrase()
    return _deleted(context.write(data_pages.MemberDeletion(member, _now())), member)


def _member_with_records(name: str) -> str:
    if not name:
        raise ApiError(400, "UnknownMember", "choose whose records; nothing was done", field="member")
    if name not in data_pages.members(get_db()):
        raise ApiError(
            400, "UnknownMember", f"Breather has no records about {name!r}; nothing was done", field="member"
        )
    return name


def _confirmed_with_passphrase() -> None:
    if request.form.get("confirm", "").strip().lower() != "delete":
        raise ApiError(400, "NotConfirmed", "type DELETE to confirm; nothing was deleted")
    security.require_passphrase(request.form.get("passphrase", ""))


def _deleted(removed: dict[str, int], member: str | None) -> BaseResponse:
    """After the store deleted everything (or ``member``'s records): the running proxy forgets it too, or it would
    still block at the old minutes; the page says how many records went."""
    forget = getattr(context.runtime(), "forget_usage", None)
    if forget is not None:
        forget(member)
    context.paths().shown_warnings.unlink(missing_ok=True)
    records = sum(removed.values())
    if context.writer().old_copies_remain:
        flash(_deleted_but_copies_remain(records), "wait")
    elif member is None:
        flash(f"Deleted {records} records. Breather starts counting again from now.", "ok")
    else:
        flash(f"Deleted {records} records about {member}. Breather counts their use again from now.", "ok")
    return redirect(url_for("manage.data"))


def _deleted_but_copies_remain(records: int) -> str:
    """What ``breather delete --all`` says too: another program reading the file (DB Browser, a sqlite3 shell) keeps
    SQLite from emptying its write-ahead log, so the page must not promise the data has left the disk."""
    database = context.paths().database
    return (
        f"Deleted {records} records: Breather no longer shows or counts them, and starts counting again from now. "
        f"But another program is reading {database}, so old copies may remain in {database.name}-wal until it "
        "closes it; Breather empties that file as soon as it can (close the other program)."
    )


RETENTION_NEEDS_A_READABLE_FILE = (
    "the rules file cannot be read as it is, so the retention cannot be written into it: the Rules page says what "
    "is wrong and lets you fix it; nothing was changed"
)


@bp.post("/data/retention")
def retention() -> BaseResponse:
    try:
        days = int(request.form.get("retention_days", ""))
    except ValueError:
        raise ApiError(400, "InvalidRetention", "retention is a whole number of days") from None
    if not 1 <= days <= 3650:
        raise ApiError(400, "InvalidRetention", "keep records between 1 and 3650 days")
    security.require_passphrase(request.form.get("passphrase", ""))
    path = context.paths().rules_file
    shown = _read_rules_file()
    if shown.form_text is None:
        raise ApiError(409, "RulesFileUnreadable", RETENTION_NEEDS_A_READABLE_FILE)
    new_text = rules_page.set_retention(shown.form_text, days)
    checked = rules_page.check(new_text, path.name)
    if checked.rules is None:
        raise ApiError(400, "InvalidRetention", "; ".join(problem.text for problem in checked.problems))
    old_text = _write_readable(path, shown)
    kept = context.current_rules().retention_days
    outcome = _save(path, old_text, new_text, context.current_rules(), checked.rules)
    if days < kept:
        outcome += (
            f" Then each night deletes the records older than {days} days, with their weekly summaries and goals: to"
            " keep a copy, download everything above first."
        )
    flash(outcome, "ok")
    return redirect(url_for("manage.data"))
