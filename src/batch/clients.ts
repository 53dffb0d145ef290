/**
 * The batch's task clients, one per provider, made on first use: a recorded task's own provider, else the
 * job's, else the batch's default. With `qps`, each provider is wrapped by its own hard request cap first.
 */
import { type ProviderName, ValidationError } from "../errors.js";
import type { Provider } from "../providers/types.js";
import { Jimeng } from "../tasks/client.js";
import { RequestRate, withRateLimit } from "./rate.js";

export interface BatchClientsOptions {
  provider: Provider;
  providers?: Partial<Record<ProviderName, Provider>>;
  jimeng?: (provider: Provider) => Jimeng;
  qps?: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  clock?: () => number;
}

export class BatchClients {
  private readonly clients = new Map<ProviderName, Jimeng>();

  constructor(private readonly options: BatchClientsOptions) {}

  /** The batch's default provider's name. */
  get defaultName(): ProviderName {
    return this.options.provider.name;
  }

  /** The provider configured under `name`, if any. */
  provider(name: ProviderName): Provider | undefined {
    return name === this.options.provider.name ? this.options.provider : this.options.providers?.[name];
  }

  /** The client of provider `name`; ValidationError when this batch has no such provider. */
  client(name: ProviderName): Jimeng {
    const known = this.clients.get(name);
    if (known) return known;
    const provider = this.provider(name);
    if (!provider) {
      throw new ValidationError([
        { path: "provider", message: `no ${name} provider is configured for this batch` },
      ]);
    }
    const { qps, sleep, clock } = this.options;
    const limited =
      qps !== undefined
        ? withRateLimit(provider, new RequestRate({ perSecond: qps, sleep, ...(clock ? { clock } : {}) }))
        : provider;
    const client = this.options.jimeng?.(limited) ?? new Jimeng({ provider: limited });
    this.clients.set(name, client);
    return client;
  }
}
