export type { NewEventRow } from "@switchyard/db";
export { type AppDeps, createApp } from "./app.js";
export { type Config, parseConfig } from "./config.js";
export { uuidv7 } from "./ids.js";
export { createLogger, type Logger } from "./logger.js";
export { createMetrics, type Metrics } from "./operations/metrics.js";
