"""Who may hand over people's records: HR and the tenant's admin for the whole tenant, a store
manager for the people of their store (the scope decides whom they see)."""

from app.security import roles as r

WRITE = {"HandoverView": "write", "HandoverApi": "write"}

r.grant({r.TENANT_ADMIN: WRITE, r.HR: WRITE, r.STORE_MANAGER: WRITE})
