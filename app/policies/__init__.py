"""The policy book: policies, coverages, endorsements, documents; issue, endorse, cancel,
confirm; list, page, import, API and the 电子保单 PDF."""
