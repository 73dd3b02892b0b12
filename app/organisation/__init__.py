"""Organisation: tenants, their tree of regions, brand regions, areas and stores; brands and
cities as reference data."""
