"""Schemathesis hooks for scripts/schemathesis.sh: one check's blind spot, and nothing else.

ensure_resource_availability (ST302) reads a session made by `POST /sessions` back through
the routes the document links to, and counts a session as removed only by a `DELETE` on the
path it reads (its naming rule takes `/session` for the item of `/sessions`). The contract
ends a session in more ways: `POST /session/rotate` ends the token it was sent, and
`DELETE /sessions/{id}` and `DELETE /users/{userId}/sessions` revoke sessions by public id
and by user. A read after one of those rightly answers 404. These hooks record every ending
the Worker confirmed with a 2xx and drop an ST302 only for a token or id so ended; every
other failure stands, and Schemathesis counts the dropped ones in its summary.
"""

import threading
from urllib.parse import parse_qs, unquote, urlsplit

import schemathesis

_lock = threading.Lock()
# Tokens ended by a rotation (the session lives on under a new token).
_ended_tokens: set[str] = set()
# Public ids of sessions deleted or revoked.
_ended_ids: set[str] = set()
# Public id -> user id, as the Worker's answers last gave it (a rotation may change it).
_user_of: dict[str, str | None] = {}


def _public_id(token: str | None) -> str | None:
    return token.split(".", 1)[0] if token else None


@schemathesis.hook
def after_call(context, case, response):
    if not 200 <= response.status_code < 300:
        return
    request = response.request
    url = urlsplit(request.url)
    route = (request.method, url.path)
    token = request.headers.get("Session-Token")
    with _lock:
        if route in (("POST", "/sessions"), ("POST", "/session/rotate")):
            body = response.json()
            _user_of[body["id"]] = body["userId"]
            if route[1] == "/session/rotate":
                _ended_tokens.add(token)
        elif route == ("DELETE", "/session"):
            _ended_ids.add(_public_id(token))
        elif request.method == "DELETE" and url.path.startswith("/sessions/"):
            _ended_ids.add(url.path.split("/")[2])
        elif request.method == "DELETE" and url.path.startswith("/users/"):
            # Decoded as the Worker decodes them: %XX only in the path, form rules in the query.
            user = unquote(url.path.split("/")[2], errors="strict")
            keep = parse_qs(url.query).get("except", [None])[0]
            _ended_ids.update(i for i, u in _user_of.items() if u == user and i != keep)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if failure.code != "ST302":
        return True
    request = response.request
    path = urlsplit(request.url).path
    token = request.headers.get("Session-Token")
    with _lock:
        if token is not None:
            ended = token in _ended_tokens or _public_id(token) in _ended_ids
        else:
            ended = path.startswith("/sessions/") and path.split("/")[2] in _ended_ids
    return not ended
