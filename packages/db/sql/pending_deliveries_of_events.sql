-- The pending deliveries of the events $1: what routing wrote for them, earlier or just now.
select id from rule_events where event_id = any($1::uuid[]) and status = 'pending';
