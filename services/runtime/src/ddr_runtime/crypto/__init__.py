"""Personal-data protection: one key per subject, fields encrypted with AES-GCM, erasure by key deletion."""
