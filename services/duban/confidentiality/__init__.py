"""第八条 confidentiality: the 批示件 register, per-item levels and need-to-know, protected reads recorded in
the audit log, watermarked downloads, and no bulk export of protected items (see levels.py, service.py)."""
