"""The SOP: agencies, incident types, routing (lead/support) and deadlines per priority."""
