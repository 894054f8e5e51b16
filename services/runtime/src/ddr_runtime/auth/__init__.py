"""Who is calling: roles, principals, bearer-token verification and the FastAPI dependencies."""
