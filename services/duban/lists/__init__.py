"""Lists that scale (issue 6 §4): keyset paging with an opaque cursor, the filters every list shares, and
text search served by an index on each database (PostgreSQL pg_trgm, SQLite FTS5 trigram).

- ``cursor.py``: the cursor (the last row's sort key, checksummed, base64url) and ``Keyset``, which
  orders a query, seeks past a cursor and cuts the next page's cursor from the rows.
- ``search.py``: the ``q=`` condition on each database, and the search structures the migrations make.
- ``query.py``: the query parameters of the list routes, validated into ``Listing``, and the response
  (a JSON array, with the next page in ``X-Next-Cursor`` and ``Link: <…>; rel="next"``).
"""
