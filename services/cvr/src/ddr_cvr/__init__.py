"""Community Violence Reduction service: partners and consortia, projects under caps, appraisal, participants and targets, monitoring visits, reports."""
