"""What an operator sees of a node: ``/health`` (live), ``/ready`` (database, NATS, S3, consumers),
``/metrics`` (Prometheus text, ``duban_*``), JSON log lines (``DUBAN_LOG_FORMAT=json``) and
``duban network status``. Nothing here changes what the node does; it only reads and counts."""
