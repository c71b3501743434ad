"""The spam filter: features of a comment, a scorer that needs no scikit-learn, training (in the worker
only), the shipped base model, and the filter on the request path with what it learns from.

Must not import ``web`` or ``views``; nothing here reaches the network.
"""
