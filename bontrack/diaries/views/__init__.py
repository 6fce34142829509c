"""Staff diary views, one module per screen (URLs in bontrack/diaries/urls.py)."""
