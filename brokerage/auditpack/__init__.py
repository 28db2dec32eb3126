"""Council audit: vetting and compliance, and the auditor pack of a quarter (statements, timesheets, contracts, ledger, seals)."""
