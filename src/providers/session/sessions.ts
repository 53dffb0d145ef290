/**
 * Session ids (the `sessionid` cookie of jimeng.jianying.com / dreamina.capcut.com): parsing the
 * `[proxyURL@][region-]sessionid` format, and a pool that hands out exactly one session per
 * request, round-robin, skipping sessions the server reported expired.
 *
 * A session id is a credential: nothing here ever puts one in a message. Sessions are named by position
 * and region (`session #2 (us)`) or by a short hash.
 */
import { createHash } from "node:crypto";
import { ValidationError } from "../../errors.js";
import type { SessionRegion } from "../types.js";

export interface ParsedSession {
  /** The token exactly as given (trimmed): this is what goes in `Authorization: Bearer …`. */
  token: string;
  region: SessionRegion;
  /** True when the token carries a `proxyURL@` prefix (the server then talks upstream through it). */
  proxied: boolean;
}

const PROXY_PREFIX = /^(https?|socks[45]?):\/\//i;
const REGION_PREFIX = /^(us|hk|jp|sg)-/i;

/** Splits a token into its parts. Pure; never throws on odd input (the server decides what is valid). */
export function parseSessionToken(raw: string): ParsedSession {
  const token = raw.trim();
  let rest = token;
  let proxied = false;
  if (PROXY_PREFIX.test(rest)) {
    // The server splits at the last `@`, so `http://user:pass@host:port@us-abc` works.
    const at = rest.lastIndexOf("@");
    if (at > 0) {
      rest = rest.slice(at + 1);
      proxied = true;
    }
  }
  const match = REGION_PREFIX.exec(rest);
  const region = (match?.[1]?.toLowerCase() ?? "cn") as SessionRegion;
  return { token, region, proxied };
}

/** A short, stable, non-reversible name for a session (8 hex digits of its SHA-256). */
export function sessionHash(token: string): string {
  return createHash("sha256").update(token.trim()).digest("hex").slice(0, 8);
}

/** Splits `sessionId` option values: a comma-separated string or an array (whose items may hold commas too). */
export function splitSessionIds(input: string | readonly string[]): string[] {
  const list = typeof input === "string" ? [input] : input;
  return list
    .flatMap((item) => item.split(","))
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export interface SessionEntry extends ParsedSession {
  /** 0-based position in the pool. */
  index: number;
  /** `session #2 (us)`: safe to print. */
  label: string;
  hash: string;
}

/**
 * Sessions reported expired (-2002), by full SHA-256 of the token: a session that expired stays skipped for
 * the rest of the process, whichever client or provider instance saw it fail.
 */
const expiredSessions = new Set<string>();

function fullHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export class SessionPool {
  readonly entries: readonly SessionEntry[];
  private cursor = 0;

  constructor(sessionIds: string | readonly string[]) {
    const tokens = splitSessionIds(sessionIds);
    if (tokens.length === 0) {
      throw new ValidationError([{ path: "sessionId", message: "at least one session id is required" }], {
        hint: "log in to jimeng.jianying.com (or dreamina.capcut.com), open DevTools → Application → Cookies and copy the value of `sessionid`",
      });
    }
    this.entries = tokens.map((token, index) => {
      const parsed = parseSessionToken(token);
      return {
        ...parsed,
        index,
        label: `session #${index + 1} (${parsed.region})`,
        hash: sessionHash(parsed.token),
      };
    });
  }

  /** The raw tokens, for redacting any text that might echo one. */
  get tokens(): string[] {
    return this.entries.map((entry) => entry.token);
  }

  isExpired(entry: SessionEntry): boolean {
    return expiredSessions.has(fullHash(entry.token));
  }

  markExpired(entry: SessionEntry): void {
    expiredSessions.add(fullHash(entry.token));
  }

  live(): SessionEntry[] {
    return this.entries.filter((entry) => !this.isExpired(entry));
  }

  /**
   * The next live session (round-robin) that passes `accept`, or undefined when none does.
   * The cursor advances past the chosen one so that the next call starts after it.
   */
  next(accept: (entry: SessionEntry) => boolean = () => true): SessionEntry | undefined {
    const count = this.entries.length;
    for (let step = 0; step < count; step++) {
      const entry = this.entries[(this.cursor + step) % count] as SessionEntry;
      if (this.isExpired(entry) || !accept(entry)) continue;
      this.cursor = (entry.index + 1) % count;
      return entry;
    }
    return undefined;
  }

  byHash(hash: string): SessionEntry | undefined {
    return this.entries.find((entry) => entry.hash === hash);
  }
}
