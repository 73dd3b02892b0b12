"""Dealer services 自营增值服务: service packages sold with insurance or alone, and contracts."""
