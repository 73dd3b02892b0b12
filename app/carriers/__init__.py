"""Carriers as plugins: the contract (contract.py), plugin discovery (registry.py), the tenant's
enabled carriers and their credentials (services.py), downloads and confirm-back (tasks.py)."""
