import { createEventInputValidator } from "@switchyard/event-intake";
import express, { type Express } from "express";
import * as OpenApiValidator from "express-openapi-validator";
import type { SecretBox } from "./auth/secretBox.js";
import type { Config } from "./config.js";
import type { Db } from "./db/database.js";
import { eventsRouter } from "./events/events.routes.js";
import { authenticate } from "./http/authenticate.js";
import { deadline } from "./http/deadline.js";
import { errorHandler, notFoundHandler } from "./http/errorHandler.js";
import type { Logger } from "./logger.js";
import { eventInputSchema, type OpenApiSpec, specForRequestValidation } from "./spec/openApiSpec.js";
import { workspacesRouter } from "./workspaces/workspaces.routes.js";

export interface AppDeps {
  readonly db: Db;
  readonly spec: OpenApiSpec;
  readonly secretBox: SecretBox;
  readonly config: Pick<Config, "maxBodyBytes" | "limits" | "jwtClockSkewSeconds" | "dbTimeoutMs">;
  readonly log: Logger;
  /** Validate every response against the spec too (tests turn this on; a mismatch becomes a 500). Default false. */
  readonly validateResponses?: boolean;
}

/** Builds the HTTP app. Opens nothing and listens nowhere: `main.ts` owns resources and lifecycle. */
export function createApp(deps: AppDeps): Express {
  const { db, spec, config } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");

  app.use(express.json({ limit: config.maxBodyBytes }));
  app.use(authenticate({ db, spec, secretBox: deps.secretBox, jwtClockSkewSeconds: config.jwtClockSkewSeconds }));
  app.use(
    OpenApiValidator.middleware({
      // The validator types want its own document type; ours is the same document, read from openapi.yaml.
      apiSpec: specForRequestValidation(spec, config.limits) as unknown as Parameters<typeof OpenApiValidator.middleware>[0]["apiSpec"],
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses: deps.validateResponses ?? false,
      validateSecurity: false,
      ignorePaths: (path: string) => !path.startsWith("/api/"),
    }),
  );
  app.use(deadline(config.dbTimeoutMs));

  const validateEventInput = createEventInputValidator(eventInputSchema(spec), config.limits);
  app.use(eventsRouter({ db, validateEventInput }));
  app.use(workspacesRouter({ db }));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return app;
}
