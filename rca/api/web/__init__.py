"""The dashboard: server-rendered pages under /ui, served by the same FastAPI application."""
