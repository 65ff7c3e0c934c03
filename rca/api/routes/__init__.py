"""One router per resource; `rca.api.app.create_app` includes them all."""
