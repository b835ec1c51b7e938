-- A connection's ($1) due deliveries, oldest first, at most $2: what a freed attempt slot for it takes next.
select id from rule_events
where connection_id = $1 and status in ('pending', 'retrying') and coalesce(next_attempt_at, now()) <= now()
order by created_at limit $2;
