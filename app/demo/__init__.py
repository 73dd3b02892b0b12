"""Demo data: a dealer group with its tree, one user per role, customers and vehicles."""
