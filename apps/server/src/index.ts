export { type AppDeps, createApp } from "./app.js";
export { type Config, parseConfig } from "./config.js";
