"""Embedded servers (NATS JetStream, S3 via SeaweedFS) run as supervised child processes."""

from .ports import free_port, free_ports, port_is_free
from .procs import NatsServerProcess, S3ServerProcess, locate_binary

__all__ = [
    "NatsServerProcess",
    "S3ServerProcess",
    "free_port",
    "free_ports",
    "locate_binary",
    "port_is_free",
]
