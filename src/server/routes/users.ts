/**
 * Seed 002's user management, admin only (a user may read its own record). `POST` answers the new user's API
 * key once; the service keeps only its hash.
 */
import type { StoredUser } from "../../queue/store.js";
import { HttpError, notFound } from "../http-error.js";
import { userBody, userQuery, userUpdateBody } from "../schemas.js";
import type { ServerContext } from "../server.js";

export function userView(user: StoredUser) {
  return {
    id: user.id,
    email: user.email ?? null,
    name: user.name ?? null,
    credits: user.credits,
    admin: user.admin,
    created_at: new Date(user.createdAt).toISOString(),
    updated_at: new Date(user.updatedAt).toISOString(),
  };
}

export function registerUserRoutes(context: ServerContext): void {
  const { route, service } = context;
  const { store } = service;

  route(
    {
      method: "POST",
      url: "/api/v1/users",
      summary: "create a user ({email, name}); the answer carries its API key, shown this once",
      tag: "users",
      access: "admin",
      body: userBody,
      successStatus: 201,
    },
    (call) => {
      const { user, apiKey } = service.createUser(call.body);
      call.reply.code(201);
      return { success: true, data: { ...userView(user), api_key: apiKey }, message: "user created" };
    },
  );

  route(
    { method: "GET", url: "/api/v1/users/:id", summary: "a user (admin, or the user itself)", tag: "users" },
    (call) => {
      const id = call.params.id ?? "";
      if (id !== call.caller.user.id && !call.caller.user.admin) throw notFound(`user ${id}`);
      const user = store.getUser(id);
      if (!user) throw notFound(`user ${id}`);
      return { success: true, data: userView(user) };
    },
  );

  route(
    {
      method: "GET",
      url: "/api/v1/users",
      summary: "users, or the users with ?email=",
      tag: "users",
      access: "admin",
      query: userQuery,
    },
    (call) => {
      const users = call.query.email ? store.findUsersByEmail(call.query.email) : store.listUsers();
      return { success: true, data: users.map(userView) };
    },
  );

  route(
    {
      method: "PUT",
      url: "/api/v1/users/:id",
      summary: "change a user's email, name or credit balance",
      tag: "users",
      access: "admin",
      body: userUpdateBody,
    },
    (call) => {
      const user = store.updateUser(call.params.id ?? "", call.body);
      if (!user) throw notFound(`user ${call.params.id}`);
      service.forgetKeys();
      return { success: true, data: userView(user), message: "user updated" };
    },
  );

  route(
    {
      method: "DELETE",
      url: "/api/v1/users/:id",
      summary: "delete a user and its keys (its tasks stay on record)",
      tag: "users",
      access: "admin",
    },
    (call) => {
      const id = call.params.id ?? "";
      const user = store.getUser(id);
      if (!user) throw notFound(`user ${id}`);
      if (user.admin) throw new HttpError(409, "conflict", "the admin user cannot be deleted");
      store.deleteUser(id);
      service.forgetKeys();
      return { success: true, message: "user deleted" };
    },
  );
}
