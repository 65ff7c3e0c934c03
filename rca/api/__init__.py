"""The HTTP service: `create_app(settings)` in `rca.api.app`, served by `rca serve`."""
