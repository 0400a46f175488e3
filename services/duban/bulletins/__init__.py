"""《督查通报》: a tenant's periodic bulletin (第N期 per year) over a chosen period, its figures computed from
the tenant's own items and assignments (figures.py says exactly how), stored as issued, rendered as DOCX
and PDF from one document description (documents/)."""
