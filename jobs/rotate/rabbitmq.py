#!/usr/bin/env python3
"""Sets the platform's RabbitMQ user's new password through the management API, logging in with the
current one. Run by the rabbitmq-rotate-g<N> Job before the stack's Secret changes; the tests run it
against a real broker.

  RABBITMQ_URL=http://rabbitmq:15672 RABBITMQ_USER=egov CURRENT_PASSWORD=... NEW_PASSWORD=... rabbitmq.py

Idempotent like mysql.sh: the new password already working, or no current password (a first deploy),
changes nothing. The user keeps its tags and permissions; open AMQP connections stay open (RabbitMQ
checks passwords when a connection opens), new ones need the new password.
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


def call(method, path, password, body=None):
    """(status, parsed body) of one management API request as the user, or (None, reason) when unreachable."""
    req = urllib.request.Request(URL + path, method=method, data=None if body is None else json.dumps(body).encode())
    auth = base64.b64encode(("%s:%s" % (USER, password)).encode()).decode()
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


URL = os.environ.get("RABBITMQ_URL", "http://rabbitmq:15672").rstrip("/")
USER = os.environ.get("RABBITMQ_USER") or die("RABBITMQ_USER is not set")
NEW = os.environ.get("NEW_PASSWORD") or die("NEW_PASSWORD is not set")
CURRENT = os.environ.get("CURRENT_PASSWORD", "")

status, _ = call("GET", "/api/whoami", NEW)
if status == 200:
    log("the new password of %s already logs in at %s: nothing to change" % (USER, URL))
    sys.exit(0)
if not CURRENT:
    log("no current password (first deploy): nothing to rotate")
    sys.exit(0)
status, info = call("GET", "/api/users/" + urllib.parse.quote(USER, safe=""), CURRENT)
if status != 200:
    die("cannot read user %s at %s with the current password nor log in with the new one (%s); nothing was changed"
        % (USER, URL, info if status is None else "HTTP %d" % status))
tags = info.get("tags", "")
tags = ",".join(tags) if isinstance(tags, list) else tags
status, _ = call("PUT", "/api/users/" + urllib.parse.quote(USER, safe=""), CURRENT, {"password": NEW, "tags": tags})
if status not in (201, 204):
    die("setting the new password failed (HTTP %s); the current password still works" % status)
log("set the new password of %s at %s (tags kept: %s)" % (USER, URL, tags or "none"))
if call("GET", "/api/whoami", NEW)[0] != 200:
    die("the new password does not log in after the change")
if call("GET", "/api/whoami", CURRENT)[0] == 200:
    die("the old password still logs in after the change")
log("checked: the new password logs in, the old one is refused")
