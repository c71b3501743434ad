"""The product's core: articles, posting and editing comments, votes and flags, reading
threads (the reply tree, visibility, the page cache), status changes that keep counts
exact, and sanitizing. Plain functions that flush and never commit; must not import
web or views (it asks moderation only for its rules and audit log).
"""
