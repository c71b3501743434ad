# Copy to instance/config.py and adjust. This folder is git-ignored (except this example):
# secrets and the SQLite database live here. Environment variables of the same name win.

# SECRET_KEY = "..."            # generated into instance/secret_key when absent
# DATABASE_URL = "postgresql+psycopg://causerie@localhost/causerie"
# ALLOWED_ORIGINS = "https://www.example-news.com,https://blog.example.org"
# AUTO_CREATE_ARTICLES = True
# SSO_SECRET = "a long random string shared with the host site"
# MAX_COMMENT_LENGTH = 10000
# EDIT_WINDOW_MINUTES = 15
# MAX_DEPTH = 30
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
# SESSION_COOKIE_SECURE = True  # when served over https (the widget then works in third-party frames)
