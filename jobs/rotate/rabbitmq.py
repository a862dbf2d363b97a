#!/usr/bin/env python3
"""Rotates the platform's RabbitMQ user without a window (docs/day-2.md "Rotate a credential"): two users
alternate, generation N uses slot N % 2, so the user the running pods hold is never changed under them. Run by
two Jobs of each generation through the management API, as the Secret's user (an administrator); the tests run
it against a real broker.

  rabbitmq.py rotate   Job rabbitmq-rotate-g<N>, before the rabbitmq Secret changes: creates or updates NEW_USER
                       with NEW_PASSWORD and the current user's tags and vhost (and topic) permissions, checks it
                       logs in. CURRENT_USER (the Secret's, which the pods use) is not touched.
  rabbitmq.py retire   Job rabbitmq-retire-g<N>, after every consumer rolled: clears RETIRE_USER's password (the
                       previous slot) so it cannot log in. It is not deleted: deleting a user closes its connections.

  RABBITMQ_URL=http://rabbitmq:15672 CURRENT_USER=egov CURRENT_PASSWORD=... NEW_USER=egov_b NEW_PASSWORD=... rabbitmq.py rotate
  RABBITMQ_URL=http://rabbitmq:15672 CURRENT_USER=egov_b CURRENT_PASSWORD=... RETIRE_USER=egov rabbitmq.py retire

Idempotent: what is already in force is left alone. Without CURRENT_PASSWORD (no Secret yet: a first deploy)
rotate has nothing to do: the broker's first start creates the Secret's user.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), msg, flush=True)


def die(msg):
    print("error: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def call(method, path, user, password, body=None):
    """(status, parsed body) of one management API request as the user, or (None, reason) when unreachable."""
    req = urllib.request.Request(URL + path, method=method, data=None if body is None else json.dumps(body).encode())
    auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    req.add_header("Authorization", "Basic " + auth)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError) as e:
        return None, str(getattr(e, "reason", e))


def q(s):
    return urllib.parse.quote(s, safe="")


def tags_of(info):
    tags = info.get("tags", "")
    return sorted(tags) if isinstance(tags, list) else sorted(t for t in tags.split(",") if t)


def get(path, what):
    """GET as the current user; fails the Job (nothing changed) when it cannot."""
    status, body = call("GET", path, CURRENT_USER, CURRENT)
    if status != 200:
        die("cannot read %s at %s as %s (%s); nothing was changed" % (what, URL, CURRENT_USER, body if status is None else "HTTP %d" % status))
    return body


def grants(user):
    """The user's tags, vhost permissions and topic permissions, comparable."""
    info = get("/api/users/" + q(user), "user " + user)
    perms = sorted((p["vhost"], p["configure"], p["write"], p["read"]) for p in get("/api/users/%s/permissions" % q(user), "permissions of " + user))
    topics = sorted((p["vhost"], p["exchange"], p["write"], p["read"]) for p in get("/api/users/%s/topic-permissions" % q(user), "topic permissions of " + user))
    return tags_of(info), perms, topics


URL = os.environ.get("RABBITMQ_URL", "http://rabbitmq:15672").rstrip("/")
ACTION = sys.argv[1] if len(sys.argv) > 1 else ""
if ACTION not in ("rotate", "retire"):
    die("usage: rabbitmq.py rotate|retire")
CURRENT_USER = os.environ.get("CURRENT_USER", "")
CURRENT = os.environ.get("CURRENT_PASSWORD", "")

if ACTION == "retire":
    RETIRE = os.environ.get("RETIRE_USER") or die("RETIRE_USER is not set")
    if not CURRENT_USER or not CURRENT:
        die("CURRENT_USER and CURRENT_PASSWORD are not set")
    if RETIRE == CURRENT_USER:
        die("refusing to retire %s: the rabbitmq Secret names it, the pods use it" % RETIRE)
    status, info = call("GET", "/api/users/" + q(RETIRE), CURRENT_USER, CURRENT)
    if status == 404:
        log("no user %s at %s: nothing to retire" % (RETIRE, URL))
        sys.exit(0)
    if status != 200:
        die("cannot read user %s at %s as %s (%s)" % (RETIRE, URL, CURRENT_USER, info if status is None else "HTTP %d" % status))
    if not info.get("password_hash"):
        log("%s already has no password: nothing to change" % RETIRE)
        sys.exit(0)
    # An empty hash: no password logs in. Tags and permissions stay, so a later rotation only sets a password.
    status, _ = call("PUT", "/api/users/" + q(RETIRE), CURRENT_USER, CURRENT, {"password_hash": "", "tags": ",".join(tags_of(info))})
    if status not in (201, 204):
        die("clearing the password of %s failed (HTTP %s)" % (RETIRE, status))
    if call("GET", "/api/users/" + q(RETIRE), CURRENT_USER, CURRENT)[1].get("password_hash"):
        die("%s still has a password after clearing it" % RETIRE)
    log("cleared the password of %s at %s: its open connections stay, new logins are refused" % (RETIRE, URL))
    sys.exit(0)

NEW_USER = os.environ.get("NEW_USER") or die("NEW_USER is not set")
NEW = os.environ.get("NEW_PASSWORD") or die("NEW_PASSWORD is not set")
if not CURRENT:
    log("no rabbitmq Secret yet (first deploy): the broker's first start creates %s; nothing to rotate" % NEW_USER)
    sys.exit(0)
new_logs_in = call("GET", "/api/whoami", NEW_USER, NEW)[0] == 200
if NEW_USER == CURRENT_USER:
    # Only a re-run after the Secret changed gets here legitimately; otherwise the generation skipped one (raised by
    # 2 without an up between) and changing this password would lock out every running pod.
    if new_logs_in:
        log("%s already logs in with the new password: nothing to change" % NEW_USER)
        sys.exit(0)
    die("the new generation's user %s is the one the pods use now (the generation was raised by 2 since the last up?): "
        "changing its password would lock them out; raise the generation by one (npm run rotate); nothing was changed" % NEW_USER)
tags, perms, topics = grants(CURRENT_USER)
if new_logs_in and grants(NEW_USER) == (tags, perms, topics):
    log("%s already logs in with the new password, with the tags and permissions of %s: nothing to change" % (NEW_USER, CURRENT_USER))
    sys.exit(0)
status, _ = call("PUT", "/api/users/" + q(NEW_USER), CURRENT_USER, CURRENT, {"password": NEW, "tags": ",".join(tags)})
if status not in (201, 204):
    die("setting up %s failed (HTTP %s); the pods' user %s is untouched" % (NEW_USER, status, CURRENT_USER))
for vhost, configure, write, read in perms:
    status, _ = call("PUT", "/api/permissions/%s/%s" % (q(vhost), q(NEW_USER)), CURRENT_USER, CURRENT,
                     {"configure": configure, "write": write, "read": read})
    if status not in (201, 204):
        die("granting %s on vhost %s failed (HTTP %s)" % (NEW_USER, vhost, status))
for vhost, exchange, write, read in topics:
    status, _ = call("PUT", "/api/topic-permissions/%s/%s" % (q(vhost), q(NEW_USER)), CURRENT_USER, CURRENT,
                     {"exchange": exchange, "write": write, "read": read})
    if status not in (201, 204):
        die("granting %s topic permissions on vhost %s failed (HTTP %s)" % (NEW_USER, vhost, status))
log("set the password of %s at %s, with the tags (%s) and permissions (vhosts %s) of %s"
    % (NEW_USER, URL, ",".join(tags) or "none", ",".join(p[0] for p in perms) or "none", CURRENT_USER))
if call("GET", "/api/whoami", NEW_USER, NEW)[0] != 200:
    die("%s does not log in with the new password after the change" % NEW_USER)
if grants(NEW_USER) != (tags, perms, topics):
    die("%s does not have the tags and permissions of %s after the change" % (NEW_USER, CURRENT_USER))
log("checked: %s logs in with the new password; %s is untouched" % (NEW_USER, CURRENT_USER))
