/**
 * A hostile server for the edge suites: a loopback proxy in front of the emulator that forwards every request
 * (Host header kept, so Visual signatures still verify) and lets a test rewrite what comes back, answer a
 * request itself, or stream something no honest server would send.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  method: string;
  /** Path and query as the client sent them. */
  path: string;
  requestBody: Buffer;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HostileRules {
  /** Answer a request without forwarding it: write to `res` and return true. */
  answer?(req: { method: string; path: string; body: Buffer }, res: ServerResponse): boolean;
  /** Rewrite the path or body before forwarding. */
  forward?(req: { method: string; path: string; body: Buffer }): { path: string; body: Buffer };
  /** Rewrite the emulator's answer (return a new body, or undefined to pass it on unchanged). */
  reply?(exchange: Exchange): string | Buffer | undefined;
}

export interface HostileProxy {
  url: string;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startHostileProxy(target: string, rules: HostileRules): Promise<HostileProxy> {
  const upstream = new URL(target);
  const server = createServer(async (req, res) => {
    const incoming = { method: req.method ?? "GET", path: req.url ?? "/", body: await readBody(req) };
    if (rules.answer?.(incoming, res)) return;
    const sent = rules.forward?.(incoming) ?? incoming;
    const headers = { ...req.headers, "content-length": String(sent.body.length) };
    delete headers["transfer-encoding"];
    const upstreamReq = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: sent.path, headers },
      async (upstreamRes) => {
        const body = await readBody(upstreamRes);
        const exchange: Exchange = {
          method: incoming.method,
          path: incoming.path,
          requestBody: incoming.body,
          status: upstreamRes.statusCode ?? 502,
          headers: upstreamRes.headers,
          body,
        };
        const replaced = rules.reply?.(exchange);
        const out = replaced === undefined ? body : Buffer.from(replaced);
        const { "content-length": _length, "transfer-encoding": _te, ...rest } = upstreamRes.headers;
        res.writeHead(exchange.status, { ...rest, "content-length": String(out.length) });
        res.end(out);
      },
    );
    upstreamReq.on("error", () => res.destroy());
    upstreamReq.end(sent.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The JSON of a body, or undefined. */
export function jsonOf(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body.toString("utf8")) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
  });
  res.end(text);
  return true;
}
