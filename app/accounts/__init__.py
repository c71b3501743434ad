"""Accounts: registration, names and passwords, login sessions, API tokens, roles,
single sign-on, and a reader's own data (export, deletion). Plain functions that flush
and never commit; must not import web or views.
"""
