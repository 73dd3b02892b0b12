"""Who may quote, bind, pay and issue: the desk's people and their managers."""

from app.security import roles as r

DESK = {"QuoteApi": "write", "OrderApi": "write", "DeskView": "write", "OrderView": "write"}

r.grant(
    {
        r.TENANT_ADMIN: DESK,
        r.STORE_MANAGER: DESK,
        r.INSURANCE_DESK: DESK,
        r.RENEWAL_SPECIALIST: DESK,
        r.REGION_MANAGER: {"QuoteApi": "read", "OrderApi": "read", "OrderView": "read"},
        r.FINANCE: {"OrderApi": "read", "OrderView": "read"},
    }
)
