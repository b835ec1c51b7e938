-- Records successful attempts, many in one statement (so one commit). $1: the attempts, one jsonb array.
-- Each attempt row is inserted; each delivery becomes `completed` only if it is still this attempt's
-- (`processing` under the attempt's claim: a cancel, or a newer claim after the lease ran out, wins); and
-- the failure streak of each attempt's connection ends.
with input as (
  select * from jsonb_to_recordset($1::jsonb) as r(
    id uuid, rule_event_id uuid, attempt int, outcome_code text, http_status int, duration_ms int, request jsonb,
    response_headers jsonb, response_body text, error text, started_at timestamptz, completed_at timestamptz, connection_id uuid)
),
recorded as (
  insert into delivery_attempts (id, rule_event_id, attempt, outcome_code, http_status, duration_ms, request, response_headers,
    response_body, error, next_attempt_at, started_at, completed_at)
  select id, rule_event_id, attempt, outcome_code, http_status, duration_ms, request, response_headers,
    response_body, error, null, started_at, completed_at
  from input
),
moved as (
  update rule_events re set status = 'completed', last_error = null, next_attempt_at = null,
    completed_at = i.completed_at, lease_expires_at = null
  from input i
  where re.id = i.rule_event_id and re.status = 'processing' and re.attempt_count = i.attempt
),
healed as (
  update connections set failing_since = null
  where id in (select connection_id from input) and failing_since is not null
)
select 1;
