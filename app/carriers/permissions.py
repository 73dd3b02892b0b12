"""Who may see the plugins page, resolve the download queue and enter carrier credentials."""

from app.security import roles as r

ADMIN = {
    "CarrierStatusView": "write",  # write: start a download pull
    "CarrierDownloadItemView": "write",
    "CarrierCredentialView": "write",
}

r.grant(
    {
        r.TENANT_ADMIN: ADMIN,
        r.IMPLEMENTER: ADMIN,
        r.FINANCE: {"CarrierDownloadItemView": "write", "CarrierStatusView": "read"},
        r.STORE_MANAGER: {"CarrierDownloadItemView": "write", "CarrierStatusView": "read"},
        r.REGION_MANAGER: {"CarrierDownloadItemView": "read", "CarrierStatusView": "read"},
        r.INSURANCE_DESK: {"CarrierDownloadItemView": "read"},
    }
)
