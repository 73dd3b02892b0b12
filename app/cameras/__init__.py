"""Cameras at the store gate: their registry, the signed events API the camera agent posts to,
matching plates to the tenant's vehicles, arrival alerts (进店提醒) and walk-in leads."""
