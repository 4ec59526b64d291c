"""Progressive delivery: risk, strategies, routers, the canary judge, rollback and approvals."""
