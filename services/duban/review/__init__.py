"""第十二条: the annual review — per unit and per person, the year's supervision work in figures (on time,
late, overdue, average working days to first feedback and to completion), on a page and as Excel."""
