"""The web layer: parse, authorise, call a service, render. No SQL, no statistics."""
