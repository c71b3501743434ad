"""The request side: who is calling and CSRF, strict bodies and query parameters,
rate-limit keys, security headers, language choice, error responses and the OpenAPI
document. Imported by views only; must not be imported by discussion, moderation or accounts.
"""
