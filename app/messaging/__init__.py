"""Messaging: texts to customers and staff (SMS, WeChat, calls) from message template documents."""
