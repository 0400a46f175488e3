"""奖惩建议 (第十一条): a supervision division's proposals of reward or penalty about its units."""
