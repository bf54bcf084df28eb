"""What the Celery backends need beyond their options: the app, its commands, beat, Flower."""
