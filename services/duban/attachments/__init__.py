"""反馈附件: files uploaded with progress and result reports, kept in the tenant's own bucket, travelling
between tenants as references (bucket, key, SHA-256, size, name, type) and copied by each receiver."""
