"""Reports: `report` documents run over the records a user sees (entity sources so far)."""
