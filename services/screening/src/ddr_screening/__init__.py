"""Screening service: child separation fast-track, age assessment, medical fitness, human-rights vetting, eligibility by versioned rules, outcomes and appeals."""
