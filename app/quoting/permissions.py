"""Who may quote, bind, pay and issue: the desk's people and their managers."""

from app.security import roles as r

DESK = {
    "QuoteApi": "write",
    "OrderApi": "write",
    "DeskView": "write",
    "OrderView": "read",
    "ServiceContractView": "read",
}

# Fees beside the premiums: managers and finance, not the desk clerk.
FEES = {"QuoteFeesView": "read"}

r.grant(
    {
        r.TENANT_ADMIN: {**DESK, **FEES},
        r.STORE_MANAGER: {**DESK, **FEES},
        r.INSURANCE_DESK: DESK,
        r.RENEWAL_SPECIALIST: DESK,
        r.REGION_MANAGER: {
            "OrderApi": "read",
            "OrderView": "read",
            "ServiceContractView": "read",
            **FEES,
        },
        r.FINANCE: {"OrderApi": "read", "OrderView": "read", "ServiceContractView": "read", **FEES},
        r.SERVICE_ADVISOR: {"ServiceContractView": "read"},
    }
)
