"""Who may quote, bind, pay and issue: the desk's people and their managers."""

from app.security import roles as r

DESK = {
    "QuoteApi": "write",
    "OrderApi": "write",
    "DeskView": "write",
    "OrderView": "read",
    "ServiceContractView": "read",
}

r.grant(
    {
        r.TENANT_ADMIN: DESK,
        r.STORE_MANAGER: DESK,
        r.INSURANCE_DESK: DESK,
        r.RENEWAL_SPECIALIST: DESK,
        r.REGION_MANAGER: {"OrderApi": "read", "OrderView": "read", "ServiceContractView": "read"},
        r.FINANCE: {"OrderApi": "read", "OrderView": "read", "ServiceContractView": "read"},
        r.SERVICE_ADVISOR: {"ServiceContractView": "read"},
    }
)
