"""Web pages (issue 8): server-rendered zh-CN pages over the same services and the same ``authorize`` as the
JSON API, with htmx served from the app's own static folder."""
