"""Data stewardship: the contract lifecycle (draft → proposed → approved → active → deprecated → retired)."""
