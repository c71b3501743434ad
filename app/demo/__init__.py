"""The demo: a sample article with its discussion and demo accounts (`flask demo`), for `make run`.
"""
