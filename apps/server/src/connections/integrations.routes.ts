import type { Integration, IntegrationList, IntegrationType, ListIntegrationsData } from "@switchyard/client";
import { destinations, type IntegrationActionInput, type IntegrationDescription } from "@switchyard/destinations";
import { Router } from "express";
import { pageParams } from "../http/cursorPage.js";
import { BadRequestError } from "../http/errors.js";
import { callerHandler } from "../http/machineHandler.js";

/** `GET /integrations`: what each destination plugin says about itself, in Meshes' shape, paged like every list. */
export function integrationsRouter(): Router {
  const router = Router();
  const records = [...destinations.values()].map(({ description }) => toIntegration(description)).sort((a, b) => compare(a.type, b.type));
  router.get(
    "/api/v1/integrations",
    callerHandler(async (_organizationId, req) => {
      // The validator has checked the query against the spec.
      const { limit, cursor } = pageParams(req.query as NonNullable<ListIntegrationsData["query"]>);
      return integrationPage(records, limit, cursor);
    }),
  );
  return router;
}

/**
 * One page of integrations in `type` order, past the one a cursor names. Integrations are few and fixed while
 * the server runs, so the cursor is simply the last type shown (base64url, as every cursor of this API).
 */
function integrationPage(records: readonly Integration[], limit: number, cursor: string | undefined): IntegrationList {
  const after = cursor === undefined ? undefined : decodeTypeCursor(cursor);
  const rest = after === undefined ? records : records.filter((record) => compare(record.type, after) > 0);
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  return {
    count: page.length,
    limit,
    next_cursor: rest.length > limit && last !== undefined ? Buffer.from(last.type, "utf8").toString("base64url") : null,
    records: page,
  };
}

function decodeTypeCursor(cursor: string): string {
  const type = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^[a-z_]{1,64}$/.test(type)) {
    throw new BadRequestError("The cursor is invalid.", [{ param: "cursor", msg: "is not a cursor this API returned" }]);
  }
  return type;
}

/**
 * An action's inputs in Meshes' `IntegrationActionInput` shape. A template is a `textarea` marked `template`. An
 * advanced pair (the item in `id`, then its `value`) is one advanced input whose `options` describe the value.
 */
function actionInputs(inputs: readonly IntegrationActionInput[]) {
  const served = [];
  for (const [index, input] of inputs.entries()) {
    if (input.kind === "advanced" && input.field === "value" && inputs[index - 1]?.kind === "advanced") continue;
    const value = input.kind === "advanced" ? inputs.find((other) => other.kind === "advanced" && other.field === "value") : undefined;
    served.push({ ...actionInput(input), ...(value === undefined ? {} : { options: advancedOption(value) }) });
  }
  return served;
}

function actionInput(input: IntegrationActionInput) {
  const { key, field, kind, label, required, template, maxLength, description } = input;
  return {
    key,
    field,
    kind,
    label,
    ...(kind === "field" ? { type: template ? ("textarea" as const) : ("text" as const), template: template === true } : {}),
    ...(required === undefined ? {} : { required }),
    ...(maxLength === undefined ? {} : { max_length: maxLength }),
    ...(description === undefined ? {} : { description }),
  };
}

/** The value of an advanced input: one option of the item (`metadata.value`), typed or picked from the item's options. */
function advancedOption(value: IntegrationActionInput) {
  return {
    key: value.key,
    field: value.field,
    length: 1,
    type: "select" as const,
    entity: "option" as const,
    template: value.template === true,
    display: { label: value.label, button: `Set ${value.label.toLowerCase()}`, description: value.description ?? "" },
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Meshes' `Integration` (`type`, `authentication`, `actions` by key), with our description and config schemas kept. */
function toIntegration(description: IntegrationDescription): Integration {
  const type = description.type as IntegrationType;
  return structuredClone({
    id: type,
    name: description.name,
    type,
    description: description.description,
    authentication: description.authentication as Integration["authentication"],
    actions: Object.fromEntries(
      description.actions.map(({ key, label, noun, description: text, inputs }) => [
        key,
        {
          key,
          label,
          noun,
          ...(inputs === undefined ? {} : { data: actionInputs(inputs) }),
          display: { label, description: text },
        },
      ]),
    ),
    metadata_schema: description.metadata_schema,
    secrets_schema: description.secrets_schema,
  });
}
