"""jobrunner master: worker Socket.IO sessions <-> RabbitMQ."""
