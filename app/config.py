"""Every setting Causerie reads, with a safe default.

Settings are layered: the defaults below, then ``instance/config.py``, then
environment variables of the same name, then the ``test_config`` given to
``create_app``. Environment values are parsed by the type of the default.
"""

DEFAULTS = {
    # Signs sessions, cursors and CSRF tokens; generated into instance/ when absent.
    "SECRET_KEY": None,
    # SQLAlchemy URL; empty means a SQLite file in instance/.
    "DATABASE_URL": "",
    # Comma-separated origins of the host sites allowed to frame the thread.
    "ALLOWED_ORIGINS": "",
    # The service's public base URL (https://comments.example): links in messages, and our own
    # origin as a host site (the demo pages); never taken from the request. Empty: no own origin.
    "PUBLIC_URL": "",
    # Create an article on first use when its url's origin is allowed.
    "AUTO_CREATE_ARTICLES": True,
    # HS256 secret the host site signs single-sign-on tokens with; empty disables SSO.
    "SSO_SECRET": "",
    # Longest comment body, in Unicode code points.
    "MAX_COMMENT_LENGTH": 10000,
    # How long an author may edit or delete their comment.
    "EDIT_WINDOW_MINUTES": 15,
    # Deepest reply level below the top level.
    "MAX_DEPTH": 30,
    # Turn every rate limit on or off.
    "RATELIMIT_ENABLED": True,
    # Where rate-limit counters live: memory:// (one process) or redis://host:port.
    "RATELIMIT_STORAGE_URI": "memory://",
    # Prefix of the rate-limit keys, for deployments that share one Redis between services.
    "RATELIMIT_KEY_PREFIX": "",
    # On account deletion keep comments with author null instead of tombstoning them.
    "ANONYMIZE_ON_DELETE": False,
    # Memory each server process may keep anonymous thread pages in, in bytes (discussion/page_cache.py).
    "THREAD_CACHE_BYTES": 32 * 1024 * 1024,
    # Largest request body accepted, in bytes.
    "MAX_CONTENT_LENGTH": 256 * 1024,
    # Mark cookies Secure (SameSite=None; Partitioned) for serving over https in a third-party frame.
    "SESSION_COOKIE_SECURE": False,
    # Lifetime of a login session with "remember", in days (without it: until the browser closes, at most 1 day).
    "REMEMBER_DAYS": 30,
    # Password hashing method handed to werkzeug.security.generate_password_hash.
    "PASSWORD_HASH_METHOD": "scrypt",
    # Rate limits (Flask-Limiter syntax), per user and per IP address.
    "RATELIMIT_POST": "20 per minute;200 per hour",
    "RATELIMIT_POST_IP": "300 per minute",
    "RATELIMIT_VOTE": "120 per minute",
    "RATELIMIT_VOTE_IP": "600 per minute",
    "RATELIMIT_FLAG_IP": "120 per minute",
    "RATELIMIT_PREVIEW": "60 per minute",
    "RATELIMIT_FLAG": "30 per minute",
    "RATELIMIT_REGISTER": "120 per minute;2000 per day",
    "RATELIMIT_LOGIN_FAILURES": "10 per 5 minutes",
    "RATELIMIT_LOGIN_FAILURES_IP": "50 per 5 minutes",
    # Failed logins from a browser the account logged in from before (it is spared the account's lock).
    "RATELIMIT_LOGIN_FAILURES_DEVICE": "10 per 5 minutes",
    # Lifetime of the device cookie a successful login leaves, in days.
    "DEVICE_COOKIE_DAYS": 365,
    "RATELIMIT_SSO": "60 per minute",
    # Articles created implicitly (first view or comment of an unknown key), per IP address.
    "RATELIMIT_ARTICLE_CREATE": "10 per minute;100 per day",
    # Defaults of the moderation settings (those stored through the API win).
    "PREMODERATION": "none",  # none | new_users | all
    "TRUSTED_AFTER": 3,
    "MAX_LINKS": 5,
    "BANNED_WORDS": "",
    "SUSPECT_WORDS": "",
    "FLAG_THRESHOLD": 3,
    # Only flags from accounts with history count toward FLAG_THRESHOLD (all flags are still stored).
    "FLAGS_NEED_HISTORY": True,
    # History: the account is at least this many hours old (rules.counted_flaggers).
    "FLAG_HISTORY_HOURS": 24,
    # Mail (notifications/mail.py). No MAIL_SERVER: the worker prints every message to its console.
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,  # STARTTLS after connecting
    "MAIL_USE_SSL": False,  # TLS from the first byte (port 465)
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    # The From of every message; empty: "Causerie <noreply@HOST>" with PUBLIC_URL's host.
    "MAIL_FROM": "",
    # Seconds the worker waits for the SMTP server, and for a webhook endpoint, per message.
    "MAIL_TIMEOUT": 10,
    "WEBHOOK_TIMEOUT": 10,
    # Unverified readers may not post at all (403 email_unverified); otherwise they count as new users.
    "REQUIRE_VERIFIED_EMAIL": False,
    # Notification messages a user gets in any hour at most; the rest wait for the next digest.
    "NOTIFY_MAX_PER_HOUR": 10,
    # The hour (UTC) daily digests go out.
    "DIGEST_HOUR": 7,
    # Let webhooks call loopback, private and link-local addresses (a test or an intranet).
    "WEBHOOK_ALLOW_PRIVATE": False,
    # The worker: messages claimed at a time, and how long it sleeps when there is nothing to do.
    "WORKER_BATCH": 100,
    "WORKER_IDLE_SECONDS": 1.0,
    # Score every reader's post and edit with the spam filter trained on this site's moderators'
    # decisions (spam/filter.py); its settings (PUT /moderation/spam-filter) apply while this is on.
    "SPAM_FILTER": True,
    # Account e-mails asked for, per IP address (forgot password) and per user (resend verification).
    "RATELIMIT_PASSWORD_FORGOT": "5 per minute;50 per day",
    "RATELIMIT_EMAIL_RESEND": "3 per 10 minutes;20 per day",
}
