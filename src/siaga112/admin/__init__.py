"""Administration: agencies, users and roles, incident types and the SOP matrix, and their audit."""
