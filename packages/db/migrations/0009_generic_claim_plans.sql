-- `switchyard_claim_deliveries` (0006) with generic plans. PL/pgSQL caches its statements' plans per session,
-- but in the default mode PostgreSQL plans them again for every call's parameters whenever it guesses that
-- pays; for the claim it never does (its statements read a handful of rows by key), and planning them cost
-- more than running them: 2.2–3.4 ms a call against 1.7–1.8 ms with generic plans, claiming 10 deliveries
-- (PostgreSQL 15).

alter function switchyard_claim_deliveries(uuid[], integer, integer, double precision, bigint)
  set plan_cache_mode = force_generic_plan;
