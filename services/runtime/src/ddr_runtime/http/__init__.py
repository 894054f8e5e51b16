"""HTTP edge shared by every service: the app factory and RFC 9457 problem responses."""
