"""Notifications: stored per user (unread/read, listed by the API) and sent through channels (log, e-mail)."""
