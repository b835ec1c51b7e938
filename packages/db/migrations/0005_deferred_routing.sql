-- Deliveries are written by the worker's `route` job after ingestion, and a job may run twice: a delivery
-- is now unique by (event, rule), so routing can skip what it already wrote. The unique index replaces the
-- plain one on the same columns (the event's deliveries are still found through it).

create unique index rule_events_event_rule_key on rule_events (event_id, rule_id);
drop index rule_events_event_idx;
