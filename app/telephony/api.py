"""The phone system's door: POST /api/v1/calls/incoming announces a call and gets a one-time link.

Authenticated by a line's bearer token, not by a session, so it is exempt from CSRF. Answers are
JSON, errors included; none ever repeats the caller's number, and nothing here logs it.
"""

from __future__ import annotations

import codecs
import io
import json
from urllib.parse import parse_qsl

from flask import abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser

from app import audit
from app.auth import throttle
from app.extensions import csrf, db, limiter
from app.main.views import ERROR_CODES, render_error
from app.telephony import bp, pops, services
from app.telephony.forms import PayloadError, read_announcement

API_ENDPOINT = "telephony.incoming"
API_PREFIX = "/api/"
MAX_BODY = 8 * 1024  # a few fields; anything bigger is not an announcement
REALM = 'Bearer realm="diemtua"'


def _bearer() -> str | None:
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _line_key() -> str:
    """Count requests per token (so per line), or per address when none is sent."""
    token = _bearer()
    return "line:" + services.hash_token(token)[:32] if token else get_remote_address()


def _line_limit() -> str:
    return current_app.config.get("SCREEN_POP_LIMIT", "120 per minute")


def _address_limit() -> str:
    return current_app.config.get("SCREEN_POP_ADDRESS_LIMIT", "600 per minute")


def is_api_request() -> bool:
    """Whether the request is the phone system's (the API answers in JSON, even a request
    routing refuses, such as a GET, which reaches no endpoint)."""
    return request.endpoint == API_ENDPOINT or request.path.startswith(API_PREFIX)


def _error(status: int, code: str, message, **headers):
    response = jsonify(error=code, message=str(message))
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.route("/api/v1/calls/incoming", methods=["POST"])
@csrf.exempt
@limiter.limit(_line_limit, key_func=_line_key, scope="screen-pop-line")
@limiter.limit(_address_limit, scope="screen-pop-address")
def incoming():
    """Announce an incoming call on the token's line; answers 201 with the link for the agent."""
    supplied = _bearer()
    line = services.authenticate_line(supplied)
    if line is None:
        stopped = services.stopped_line(supplied) if supplied else None
        told = "stopped line's" if stopped else "unknown" if supplied else "no"
        current_app.logger.warning("screen pop refused: %s bearer token", told)
        # In the audit log too (never the token), once a minute per address (or per line, for
        # a revoked line's token: in that organisation's log): repeated guessing, or a PBX
        # still using a stopped line, shows there for the admins, without flooding the chain.
        scope = f"line {stopped.id}" if stopped else request.remote_addr or "-"
        if throttle.first_in("1 per minute", "screen-pop-refused", scope):
            audit.record(
                "denied",
                object_type="phone_line",
                object_id=stopped.id if stopped else None,
                organisation_id=stopped.organisation_id if stopped else None,
                detail=f"{told} bearer token",
            )
            db.session.commit()
        challenge = REALM + (', error="invalid_token"' if supplied else "")
        return _error(401, "unauthorized", _("A valid line token is required."),
                      **{"WWW-Authenticate": challenge})  # fmt: skip
    values = _body()
    if values is None:
        return _error(400, "bad_request", _("Send a JSON object or a form-encoded body."))
    try:
        announcement = read_announcement(values)
    except PayloadError as exc:
        return _error(422, exc.code, exc.message)
    try:
        pop, token = pops.announce_call(
            line=line,
            token_hash=services.hash_token(supplied),
            caller=announcement.caller,
            started_at=announcement.started_at,
        )
    except pops.LineStopped:  # revoked or rotated a moment ago: refused as its token now is
        return _error(401, "unauthorized", _("A valid line token is required."),
                      **{"WWW-Authenticate": REALM + ', error="invalid_token"'})  # fmt: skip
    answer = {"url": _pop_url(token), "expires_at": pop.expires_at.isoformat()}
    if announcement.warning:
        current_app.logger.warning("screen pop on line %s: %s", line.id, announcement.warning)
        answer["warning"] = announcement.warning
    return jsonify(answer), 201


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _body():
    """The fields sent, from JSON or a form body (Asterisk's CURL()); None when unreadable.

    A JSON object is read as JSON whatever its label: `curl -d '{...}'` without a Content-Type
    header labels it form-encoded, which would otherwise read as a body without a caller; so is
    one after a UTF-8 byte order mark (a body saved by a Windows editor, sent with `-d @file`),
    and a form-encoded body after one, whose first field's name would otherwise carry the mark.
    A body that is neither is refused as unreadable rather than read as empty."""
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    # Read here, one byte past the cap: a chunked body (no length said) is refused whole when
    # longer, never cut (a server that ends the input itself, as gunicorn does, would have
    # Werkzeug's own cap stop reading there and hand on what it had).
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        abort(413)
    text = raw.removeprefix(codecs.BOM_UTF8)
    if request.is_json or text.lstrip()[:1] == b"{":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to read
            return None
        return data if isinstance(data, dict) else None
    if text is not raw and request.mimetype == FORM_TYPES[0]:
        try:
            return MultiDict(parse_qsl(text.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return None
    if request.mimetype in FORM_TYPES or not raw.strip():
        return _form(raw)
    return None


def _form(raw: bytes) -> MultiDict:
    """A form body (form-encoded or multipart) read from the bytes read already."""
    if not raw.strip():
        return MultiDict()
    _stream, form, _files = FormDataParser(max_form_memory_size=MAX_BODY).parse(
        io.BytesIO(raw), request.mimetype, len(raw), request.mimetype_params
    )
    return form


def _pop_url(token: str) -> str:
    """The link for the agent, on SCREEN_POP_BASE_URL when the phone system reaches the app by
    another address than the agents do."""
    base = current_app.config.get("SCREEN_POP_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("telephony.pop", token=token)
    return url_for("telephony.pop", token=token, _external=True)


API_ERROR_CODES = (400, 401, 403, 404, 405, 413, 429, 500)


def api_errors(error: HTTPException):
    """JSON errors for the API (rate limit, oversized body...); the usual pages elsewhere."""
    if not is_api_request():
        return render_error(error) if error.code in ERROR_CODES else error
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    if code == 429:
        return _error(429, "rate_limited", _("Too many calls announced; try again in a minute."),
                      **{"Retry-After": "60"})  # fmt: skip
    if code == 413:
        return _error(413, "too_large", _("Send a JSON object or a form-encoded body."))
    allowed = {k: v for k, v in error.get_headers() if k == "Allow"}  # a 405 names POST
    return _error(code, f"http_{code}", _("The request could not be handled."), **allowed)


# Registered per code: the app's own handlers for these codes would otherwise come first.
for _code in API_ERROR_CODES:
    bp.register_error_handler(_code, api_errors)
