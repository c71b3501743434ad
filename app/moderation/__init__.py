"""Moderators' work: decisions on comments, the queues, the automatic rules and their
settings, bans and the audit log. Plain functions that flush and never commit; must not
import web or views.
"""
