"""People: what happens to logins when employees join (record hooks named by entity documents)."""
