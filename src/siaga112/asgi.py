"""ASGI entry for uvicorn workers: each worker process builds its own app from the environment."""
from siaga112.app import create_app

app = create_app()
