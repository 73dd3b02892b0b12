"""Hand-over: what each capability assigns to people, and moving all of it from one user to a
successor in one audited step (a leaver's customers, policies, later renewal tasks and leads)."""
