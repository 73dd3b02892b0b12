"""Customers and their vehicles: the people and cars every policy, renewal and arrival is about."""
