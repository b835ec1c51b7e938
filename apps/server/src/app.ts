import type { Db, StatementRunner } from "@switchyard/db";
import { type NeverReachable, parseAddressPolicy } from "@switchyard/destinations";
import { createEventInputValidator, uuidPattern } from "@switchyard/event-intake";
import type { SecretBox } from "@switchyard/secret-box";
import express, { type Express } from "express";
import * as OpenApiValidator from "express-openapi-validator";
import { authenticate } from "./auth/authenticate.js";
import { commandsRouter } from "./commands/commands.routes.js";
import type { Config } from "./config.js";
import { connectionsRouter } from "./connections/connections.routes.js";
import { integrationsRouter } from "./connections/integrations.routes.js";
import { historyRouter } from "./history/history.routes.js";
import { accessLog } from "./http/accessLog.js";
import { cors } from "./http/cors.js";
import { deadline } from "./http/deadline.js";
import { errorHandler, notFoundHandler } from "./http/errorHandler.js";
import { shedLoad } from "./http/loadShedding.js";
import { eventInputSchema, isDateTime, type OpenApiSpec, specForRequestValidation } from "./http/openApiSpec.js";
import { requestId } from "./http/requestId.js";
import { requireHost } from "./http/requireHost.js";
import { createEventWriter, type EventWriter } from "./ingest/eventWriter.js";
import { ingestRouter } from "./ingest/ingest.routes.js";
import type { RoutingWake } from "./ingest/routingWake.js";
import { unlimited, type WorkspaceRateLimiter } from "./ingest/workspaceRateLimiter.js";
import type { Logger } from "./logger.js";
import { oauthRouter } from "./oauth/oauth.routes.js";
import { docsRouter } from "./operations/docs.routes.js";
import { createMetrics, type Metrics } from "./operations/metrics.js";
import { operationsRouter } from "./operations/operations.routes.js";
import { rulesRouter } from "./rules/rules.routes.js";
import { sessionsRouter } from "./sessions/sessions.routes.js";
import { workspacesRouter } from "./workspaces/workspaces.routes.js";

export interface AppDeps {
  readonly db: Db;
  /** The pool under `db`: ingestion runs its statement on it directly, prepared by name (`insertEvents`). */
  readonly pool: StatementRunner;
  /** Woken after each ingest commit that wrote routing work (`createRoutingWake`); its owner closes it. */
  readonly routingWake: RoutingWake;
  readonly spec: OpenApiSpec;
  readonly secretBox: SecretBox;
  readonly config: Pick<
    Config,
    | "maxBodyBytes"
    | "limits"
    | "jwtClockSkewSeconds"
    | "dbTimeoutMs"
    | "idempotencyTtlSeconds"
    | "dbPoolSize"
    | "ingestGroupMaxRows"
    | "ingestMaxInProgress"
    | "ingestMaxQueueWaitMs"
    | "corsOrigins"
    | "trustProxy"
    | "destinationAllowList"
    | "providers"
    | "signingSecretGraceMs"
    | "configuredPublicUrl"
  >;
  readonly log: Logger;
  /** Where requests and ingested events are counted (`createMetrics`), served at `/metrics`. Default: a registry of its own. */
  readonly metrics?: Metrics;
  /** The per-workspace ingestion limit (`createWorkspaceRateLimiter`). Default: unlimited. */
  readonly rateLimiter?: WorkspaceRateLimiter;
  /** Switchyard's own endpoints (`createOwnEndpoints`), refused as connection URLs whatever the allow-list says. */
  readonly neverReachable?: NeverReachable;
  /** Validate every response against the spec too (tests turn this on; a mismatch becomes a 500). Default false. */
  readonly validateResponses?: boolean;
}

/**
 * Builds the HTTP app. Opens nothing and listens nowhere: `main.ts` owns resources and lifecycle.
 *
 * A request meets, in order: request tracking (`http/requestId`, `http/accessLog`, `http/requireHost`); the
 * operations endpoints outside /api (`operations/`); API admission (`http/cors`, `http/loadShedding`,
 * `http/deadline`, `auth/authenticate`, the body parser, the spec's validator); then its router: ingestion
 * (`ingest/`), the management resources (`workspaces/`, `connections/`, `rules/`), the operator's reads
 * (`history/`) and commands (`commands/`), and embed sessions (`sessions/`). Whatever it throws is answered by `http/errorHandler`.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  applySettings(app, deps.config);
  const parts: AppParts = { deps, metrics: deps.metrics ?? createMetrics(), writer: createIngestWriter(deps) };
  useRequestTracking(app, parts);
  useOperations(app, parts);
  useApiAdmission(app, parts);
  useApiRouters(app, parts);
  useErrorHandling(app, parts);
  return app;
}

/** What the groups below share: the app's dependencies, its metrics, and the one event writer of its ingestion. */
interface AppParts {
  readonly deps: AppDeps;
  readonly metrics: Metrics;
  readonly writer: EventWriter;
}

/** The two paths that take events: load shedding applies to them alone. */
const ingestionPaths = ["/api/v1/events", "/api/v1/events/bulk"];

function applySettings(app: Express, config: AppDeps["config"]): void {
  app.disable("x-powered-by");
  // No conditional GETs are offered; Express would otherwise SHA-1 every response body (~1 % of ingest CPU).
  app.disable("etag");
  app.set("query parser", "simple");
  app.set("trust proxy", config.trustProxy);
}

/** Group commit of ingested events (`createEventWriter`): half the pool's connections write events at most. */
function createIngestWriter(deps: AppDeps): EventWriter {
  return createEventWriter(deps.pool, {
    idempotencyTtlSeconds: deps.config.idempotencyTtlSeconds,
    maxInFlight: Math.max(1, Math.ceil(deps.config.dbPoolSize / 2)),
    maxRows: deps.config.ingestGroupMaxRows,
    onRouted: deps.routingWake.wake,
  });
}

/** Before everything else, so that every answer (preflights and errors too) carries an id and is logged. */
function useRequestTracking(app: Express, { deps, metrics }: AppParts): void {
  app.use(requestId());
  app.use(accessLog({ log: deps.log, metrics, spec: deps.spec }));
  app.use(requireHost());
}

/** Outside /api: unauthenticated, not in the spec, answered before any body parsing. */
function useOperations(app: Express, { deps, metrics }: AppParts): void {
  app.use(operationsRouter({ db: deps.db, dbTimeoutMs: deps.config.dbTimeoutMs, metrics, log: deps.log }));
  app.use(docsRouter());
}

/**
 * Everything an API request passes before its handler, in this order: CORS, load shedding, the deadline,
 * authentication, the body parser and the spec's validator.
 */
function useApiAdmission(app: Express, { deps, metrics, writer }: AppParts): void {
  const { config, spec } = deps;
  // First of the API middleware: preflights are answered before authentication and validation, and errors carry CORS headers.
  app.use(cors({ spec, origins: config.corsOrigins }));
  const shedder = shedLoad({
    maxInProgress: config.ingestMaxInProgress,
    maxQueueWaitMs: config.ingestMaxQueueWaitMs,
    queueWaitMs: writer.queueWaitMs,
    onShed: (reason) => metrics.requestsShed.inc({ reason }),
  });
  // While the server is full, an ingestion request is answered 503 before anything else: no key lookup for a
  // request it would shed anyway. It takes no slot here (an unknown caller never does).
  app.post(ingestionPaths, shedder.shedIfFull);
  // Before authentication, which reads the database too: one timeout bounds every wait of the request on
  // the database (after authentication it would allow the timeout twice over: once for the key, once for the work).
  app.use(deadline(config.dbTimeoutMs));
  // From the headers alone, before any body byte is read or any slot is held (docs/security.md).
  app.use(
    authenticate({
      pool: deps.pool,
      spec,
      secretBox: deps.secretBox,
      jwtClockSkewSeconds: config.jwtClockSkewSeconds,
      publicUrl: config.configuredPublicUrl,
    }),
  );
  // A known caller, before the body is read: admitted into a slot, or shed if the server filled meanwhile.
  app.post(ingestionPaths, shedder.admit);
  app.use(express.json({ limit: config.maxBodyBytes }));
  app.use(
    OpenApiValidator.middleware({
      // The validator types want its own document type; ours is the same document, read from openapi.yaml.
      apiSpec: specForRequestValidation(spec, config.limits) as unknown as Parameters<typeof OpenApiValidator.middleware>[0]["apiSpec"],
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses: deps.validateResponses ?? false,
      validateSecurity: false,
      // PostgreSQL's reading of a uuid (the validator's default also takes `urn:uuid:…`, which PostgreSQL refuses).
      formats: { uuid: uuidPattern, "date-time": isDateTime },
      ignorePaths: (path: string) => !path.startsWith("/api/"),
    }),
  );
}

/** The API's handlers: ingestion, the management resources, the operator's reads and commands. */
function useApiRouters(app: Express, { deps, metrics, writer }: AppParts): void {
  const { db, config } = deps;
  const validateEventInput = createEventInputValidator(eventInputSchema(deps.spec), config.limits);
  app.use(ingestRouter({ db, validateEventInput, writer, rateLimiter: deps.rateLimiter ?? unlimited, metrics }));
  app.use(workspacesRouter({ db }));
  const connectionDeps = {
    db,
    secretBox: deps.secretBox,
    addressPolicy: parseAddressPolicy(config.destinationAllowList, deps.neverReachable),
    signingSecretGraceMs: config.signingSecretGraceMs,
    providers: config.providers,
  };
  app.use(connectionsRouter(connectionDeps));
  // The code exchange must end within the request's deadline (`http/deadline`), or the user would see a 503 for a connection made.
  const exchangeTimeoutMs = Math.max(1_000, config.dbTimeoutMs - 1_000);
  app.use(oauthRouter({ ...connectionDeps, exchangeTimeoutMs, publicUrl: config.configuredPublicUrl }));
  app.use(rulesRouter({ db }));
  app.use(integrationsRouter());
  app.use(historyRouter({ db }));
  app.use(commandsRouter({ db }));
  app.use(sessionsRouter({ db, publicUrl: config.configuredPublicUrl }));
}

/** Last: paths no router answered, and the one place that turns errors into responses. */
function useErrorHandling(app: Express, { deps }: AppParts): void {
  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
}
