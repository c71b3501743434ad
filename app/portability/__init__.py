"""Bringing discussions in and taking everything out: imports from Disqus, WordPress and Isso, the
JSONL export and its restore (``flask --app app import ...``, ``flask --app app export``).

May import ``models``, ``discussion`` (rendering, counts) and ``accounts`` (usernames); never ``web``
or ``views``.
"""
