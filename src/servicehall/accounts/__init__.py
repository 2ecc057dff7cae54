"""Named personal staff accounts, roles and capabilities, login security (等保 2.0 level 3)."""
