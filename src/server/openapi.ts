/** `/openapi.json`: an OpenAPI 3.1 document generated from the route declarations and their zod schemas. */
import { z } from "zod";
import { VERSION } from "../version.js";
import type { RouteRegistry } from "./routing.js";

const ERROR_SCHEMA = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" } },
  required: ["error", "message"],
};

function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

export function openApiDocument(routes: RouteRegistry): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const url = route.url.replace(/:(\w+)/g, "{$1}");
    const parameters: Record<string, unknown>[] = [...route.url.matchAll(/:(\w+)/g)].map((match) => ({
      name: match[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    if (route.query) {
      const schema = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        parameters.push({
          name,
          in: "query",
          required: schema.required?.includes(name) ?? false,
          schema: property,
        });
      }
    }
    const success = String(route.successStatus ?? 200);
    const responses: Record<string, unknown> = { [success]: { description: "ok" } };
    for (const [status, description] of Object.entries(route.responses ?? {})) {
      responses[status] = { description, content: { "application/json": { schema: ERROR_SCHEMA } } };
    }
    if (route.access !== "public") {
      responses["401"] ??= { description: "missing or unknown API key" };
      responses["429"] ??= { description: "rate limit or quota; see Retry-After" };
    }
    if (route.body) responses["400"] ??= { description: "a field is invalid; the message names it" };
    paths[url] ??= {};
    (paths[url] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.access === "public" ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "jimeng serve", version: VERSION, description: "The task service of `jimeng serve`." },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
