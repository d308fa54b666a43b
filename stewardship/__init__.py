"""Data stewardship: contract lifecycle, change classification, disputes, quality and ratios."""
