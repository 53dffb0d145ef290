/**
 * How a route is declared: method, path, one-line summary, who may call it, and the zod schemas of its body
 * and query. The same declaration validates the request (a `400` naming the field) and feeds `/openapi.json`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { StoredUser } from "../queue/store.js";
import { parseOrThrow } from "../validation.js";
import { forbidden, HttpError } from "./http-error.js";

export interface Caller {
  user: StoredUser;
  /** The hash of the key used (the per-key rate limit); "open" with `--insecure-no-auth`. */
  keyHash: string;
}

/** `public`: no key (only `/health`); `user`: any valid key; `admin`: the admin key. */
export type Access = "public" | "user" | "admin";

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteDeclaration<B extends z.ZodType | undefined, Q extends z.ZodType | undefined> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  summary: string;
  tag: string;
  access?: Access;
  body?: B;
  query?: Q;
  /** Answers documented besides 200 / 201 (for the OpenAPI document). */
  responses?: Record<number, string>;
  /** Status of a successful answer (default 200). */
  successStatus?: number;
}

export interface RouteCall<B, Q> {
  request: FastifyRequest;
  reply: FastifyReply;
  caller: Caller;
  body: Parsed<B>;
  query: Parsed<Q>;
  params: Record<string, string>;
}

export type Authenticate = (request: FastifyRequest) => Caller;

/** Every declared route, for `/openapi.json`. */
export type RouteRegistry = RouteDeclaration<z.ZodType | undefined, z.ZodType | undefined>[];

export function declareRoute<B extends z.ZodType | undefined, Q extends z.ZodType | undefined>(
  app: FastifyInstance,
  registry: RouteRegistry,
  authenticate: Authenticate,
  declaration: RouteDeclaration<B, Q>,
  handler: (call: RouteCall<B, Q>) => unknown,
): void {
  registry.push(declaration as RouteDeclaration<z.ZodType | undefined, z.ZodType | undefined>);
  const access = declaration.access ?? "user";
  app.route({
    method: declaration.method,
    url: declaration.url,
    handler: async (request, reply) => {
      const caller = access === "public" ? undefined : authenticate(request);
      if (access === "admin" && !caller?.user.admin) throw forbidden("this route needs the admin key");
      const body = (
        declaration.body ? parseOrThrow(declaration.body, request.body ?? {}) : undefined
      ) as Parsed<B>;
      const query = (
        declaration.query ? parseOrThrow(declaration.query, request.query ?? {}) : undefined
      ) as Parsed<Q>;
      const result = await handler({
        request,
        reply,
        caller: caller as Caller,
        body,
        query,
        params: (request.params ?? {}) as Record<string, string>,
      });
      if (reply.sent) return reply;
      if (declaration.successStatus && reply.statusCode === 200) reply.code(declaration.successStatus);
      return result;
    },
  });
}

/** A user id in a body must be the caller's own; the admin may act for anyone. */
export function checkActingFor(caller: Caller, userId: string | undefined): string {
  if (userId === undefined || userId === caller.user.id) return caller.user.id;
  if (caller.user.admin) return userId;
  throw new HttpError(403, "forbidden", `user_id ${userId} is not the user of this API key`);
}
