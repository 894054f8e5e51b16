"""Integration service: quotas, rank harmonisation, training cohorts, unit assignment under the rule of thirds, service records."""
