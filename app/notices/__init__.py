"""In-app notices (站内提醒) to one user, and the daily job that raises them from message
templates on entity date fields (e.g. a practitioner licence expiring within 30 days)."""
