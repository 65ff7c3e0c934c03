"""Commands that change the store or the registry: fit, assign, evaluate, refresh, MLflow runs."""
