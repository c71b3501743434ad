"""What Causerie sends: e-mail and webhook calls, through a transactional outbox.

A request never reaches the outside world. What must be sent is written as a row in the same
transaction as its cause: an ``events`` row for what happened to a comment or a user
(``events.record``), or an ``outbox`` row for a message whose text is known at once (an account
e-mail). The worker (``flask --app app worker``, ``worker.py``) turns events into messages
(``fanout.py``), gathers digests, and delivers the outbox at least once with retries, each message
keeping one stable id (the e-mail ``Message-ID``, the ``webhook-id``).

May import ``models``, ``accounts`` (tokens, users), ``discussion`` and ``moderation``; never
``web`` or ``views``.
"""
