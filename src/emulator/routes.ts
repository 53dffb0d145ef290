import { arkRoutes } from "./ark-routes.js";
import { sessionRoutes } from "./session-routes.js";
import type { RouteHandler } from "./types.js";
import { visualRoutes } from "./visual-routes.js";

/**
 * The API halves the emulator serves by default, tried in order. Each returns undefined for requests that
 * are not its own: the Visual API lives at `POST /?Action=…`, the session routes under `/v1`, `/token`, `/ping`, Ark under `/api/v3`.
 */
export const defaultRoutes: RouteHandler[] = [visualRoutes, sessionRoutes, arkRoutes];
