"""Dagster event storage for a local data folder: SQLite, with asset events written in batches.

One build materialises two assets for every landed file (one dynamic partition per file), so a
first build of a few thousand files writes thousands of asset events. Dagster's stock SQLite
storage commits each event on its own: a new connection and a synced commit in the run's
database, another pair in the index database (about 10 ms an event here), which made the event
log the largest single cost of building many small files. Dagster hands a storage the events of
one asset output together when ``DAGSTER_EVENT_BATCH_SIZE`` is set (PostgreSQL storage writes them
in one statement); this storage does the same for SQLite: one transaction per database for the
whole batch, and one update of each asset's entry. What is stored is exactly what the stock
storage stores, event by event.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from dagster import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetKeyTable
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy import exc as db_exc

# how many asset events of one output Dagster hands over at once (read by DagsterInstance): the
# run's events of one asset in one batch, for runs of up to this many landed files (a few MB of
# events held until the asset's output ends)
EVENT_BATCH_SIZE = "10000"
# one planned event per asset and run instead of one per asset and file; the cost: if a run
# fails, its files show as not materialised rather than as failed (the run itself shows failed)
INSTANCE_ENVIRONMENT = {
    "DAGSTER_EVENT_BATCH_SIZE": EVENT_BATCH_SIZE,
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
}

_BATCHED_TYPES = frozenset(
    {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION}
)


def use_batched_events() -> None:
    """Have Dagster hand asset events to the storage in batches (unless already configured)."""
    for name, value in INSTANCE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage (one database per run plus an index) that stores a batch of
    asset materialisations or observations in one transaction per database."""

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchedSqliteEventLogStorage:
        # the inherited one builds the stock class, whatever class it is called on
        return cls(inst_data=inst_data, **config_value)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        kinds = {event.get_dagster_event().event_type for event in events}
        run_ids = {event.run_id for event in events}
        if not kinds <= _BATCHED_TYPES or len(run_ids) != 1:
            super().store_event_batch(events)
            return
        # a failed-to-materialise event is not stored by the stock storage either
        events = [e for e in events if not e.get_dagster_event().is_asset_failed_to_materialize]
        if not events:
            return
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in statements:
                conn.execute(statement)
        with self.index_transaction() as conn:
            event_ids = []
            for statement in statements:
                key = conn.execute(statement).inserted_primary_key
                if key is None:
                    raise RuntimeError("SQLite gave no id for a stored asset event")
                event_ids.append(int(key[0]))
            self._store_asset_event_tags(conn, events, event_ids)
            self._store_asset_entries(conn, events, event_ids)

    def _store_asset_entries(
        self, conn: Any, events: Sequence[EventLogEntry], event_ids: Sequence[int]
    ) -> None:
        """Update each asset's entry as the stock storage does event by event, in one statement
        per asset.

        Event by event, each event overwrites its asset's entry with the columns its kind sets
        (a materialisation: the last materialisation, run and time; an observation: the time),
        so the entry ends as the events of the batch merged in order. Only the last event of
        each kind per asset can leave a column, so only those are serialised.
        """
        last_of_kind: dict[tuple[str, DagsterEventType], int] = {}
        for index, event in enumerate(events):
            dagster_event = event.get_dagster_event()
            if dagster_event.asset_key is not None:
                kind = (dagster_event.asset_key.to_string(), dagster_event.event_type)
                last_of_kind[kind] = index
        has_index_columns = self._has_asset_key_index_cols_on_connection(conn)
        merged: dict[str, dict[str, Any]] = {}
        for (asset_key, _), index in sorted(last_of_kind.items(), key=lambda item: item[1]):
            values = self._get_asset_entry_values(
                events[index], event_ids[index], has_index_columns
            )
            merged.setdefault(asset_key, {}).update(values)
        for asset_key, values in merged.items():
            if not values:
                continue
            try:
                conn.execute(AssetKeyTable.insert().values(asset_key=asset_key, **values))
            except db_exc.IntegrityError:
                conn.execute(
                    AssetKeyTable.update()
                    .values(**values)
                    .where(AssetKeyTable.c.asset_key == asset_key)
                )


class BatchedSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, events, schedules under one folder, the stock layout) with
    :class:`BatchedSqliteEventLogStorage` for events. An instance folder made by the stock
    storage can be opened by this one and back."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchedSqliteEventLogStorage(self._event_logs_dir)

    @property
    def _event_logs_dir(self) -> str:
        return os.path.join(self.base_dir, "history", "runs", "")

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchedSqliteStorage:
        # the inherited one builds the stock class, whatever class it is called on
        return cls.from_local(inst_data=inst_data, **config_value)

    @property
    def event_storage_data(self) -> ConfigurableClassData | None:
        return ConfigurableClassData(
            __name__,
            BatchedSqliteEventLogStorage.__name__,
            yaml.dump({"base_dir": self._event_logs_dir}, default_flow_style=False),
        )
