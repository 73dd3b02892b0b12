"""Users, roles and the security baseline (password policy, lock-out, session, headers)."""
