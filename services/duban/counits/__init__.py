"""协办: a co-unit sends its views to the lead unit within its own due date; the lead's result report to the
assigner carries them."""
