"""Logging of ``hub serve``: one format for the hub's loggers and uvicorn's, each line carrying the
id of the request it belongs to (asgi-correlation-id's filter; ``-`` outside a request).

``HUB_LOG_FORMAT=text`` (default) writes ``time level [request id] logger: message``;
``HUB_LOG_FORMAT=json`` writes one JSON object per line (python-json-logger) with the fields
``time``, ``level``, ``logger``, ``request_id`` and ``message``, for a log collector.
"""

from __future__ import annotations

from typing import Any

from hub.settings import LogFormat, Settings

TEXT = "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(correlation_id)s %(message)s"


def config(settings: Settings, level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for the API process (uvicorn's ``log_config``)."""
    if settings.log_format == LogFormat.json:
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
            "json_ensure_ascii": False,
        }
    else:
        formatter = {"format": TEXT}
    through = {"handlers": [], "propagate": True, "level": level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "asgi_correlation_id.CorrelationIdFilter", "default_value": "-"}},
        "formatters": {"hub": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "hub",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {"uvicorn": through, "uvicorn.error": through, "uvicorn.access": through},
        "root": {"handlers": ["stderr"], "level": level},
    }
