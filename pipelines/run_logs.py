"""A Dagster logger that writes a run's full log to a file instead of the screen."""

import logging
from pathlib import Path

import dagster as dg


@dg.logger(
    config_schema={"path": dg.Field(str), "log_level": dg.Field(str, default_value="DEBUG")},
    description="Writes every event of the run to a log file.",
)
def run_log_file(init_context: dg.InitLoggerContext) -> logging.Logger:
    path = Path(init_context.logger_config["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.Logger(
        "trending_papers.run_log", level=init_context.logger_config["log_level"]
    )
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger
