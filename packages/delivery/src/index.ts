export { type OwnEndpoints, ownEndpointsWithDatabase } from "@switchyard/destinations";
export { type AttemptDecision, type AttemptOutcomeFacts, decideAttempt, type OutcomeCode } from "./policy/decideAttempt.js";
export { delayBeforeNextAttempt, maxAttempts, retrySchedule } from "./policy/retrySchedule.js";
export { type AttemptRecorder, type CompletedAttempt, createAttemptRecorder } from "./worker/attemptRecorder.js";
export { DeliveryConfigError, type DeliveryWorkerConfig, parseDeliveryWorkerConfig } from "./worker/config.js";
export { createWorkerPool } from "./worker/createWorkerPool.js";
export { createDestinations, type Destinations } from "./worker/destinations.js";
export { createOAuthTokens, type OAuthTokens, type OAuthTokensDeps, refreshMarginMs, type SendAttempt } from "./worker/oauthRefresh.js";
export { type DeliveryWorker, type DeliveryWorkerDeps, startDeliveryWorker, type WorkerLog } from "./worker/startDeliveryWorker.js";
