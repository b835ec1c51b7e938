-- The shared counters of the `postgres` rate-limit store (rate-limiter-flexible's RateLimiterPostgres). Its
-- statements insert by position, so the columns and their order are the library's: one row per
-- `events:<workspace id>` key, `expire` in epoch milliseconds. Expired rows are deleted by the library every
-- five minutes; with one row per active workspace the table stays small, so `expire` has no index.

create table rate_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
