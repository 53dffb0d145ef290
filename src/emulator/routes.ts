import { sessionRoutes } from "./session-routes.js";
import type { RouteHandler } from "./types.js";

/**
 * The API halves the emulator serves by default, tried in order. Each returns undefined for requests that
 * are not its own.
 */
export const defaultRoutes: RouteHandler[] = [sessionRoutes];
