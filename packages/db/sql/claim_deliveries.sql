-- Claims, for one attempt each, the due deliveries among $1 that fit: at most $2 (the caller's free attempt
-- slots), and no connection above $3 attempts in flight across every worker; each claim's lease lasts $4
-- seconds. $5 seeds the per-connection advisory locks. See `switchyard_claim_deliveries` (migration 0006):
-- it answers the claimed deliveries (`claimed`), then the due ones it left (`claimed` false).
select * from switchyard_claim_deliveries($1::uuid[], $2::int, $3::int, $4::float8, $5::bigint);
