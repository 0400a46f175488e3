"""第九条, 第三条1 (指导): every tenant's own supervision work as figures — open, done, overdue, on-time rate —
reported by each tenant to the city 督查室 as events, never read from another tenant's tables."""
