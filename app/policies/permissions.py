"""Who may read, change and import the policy book, and who may see the insured's ID number and
phone unmasked (PolicyPersonalDataView: every such look is audited)."""

from app.security import roles as r

READ = {"PolicyView": "read", "PolicyApi": "read"}
WRITE = {"PolicyView": "write", "PolicyApi": "write"}
PERSONAL = {"PolicyPersonalDataView": "read"}
IMPORT = {"PolicyImportView": "write"}

r.grant(
    {
        r.TENANT_ADMIN: {**WRITE, **PERSONAL, **IMPORT},
        r.STORE_MANAGER: {**WRITE, **PERSONAL, **IMPORT},
        r.INSURANCE_DESK: {**WRITE, **PERSONAL},
        r.RENEWAL_SPECIALIST: {**READ, **PERSONAL},
        r.REGION_MANAGER: READ,
        r.FINANCE: READ,
        r.IMPLEMENTER: {**READ, **IMPORT},
    }
)
