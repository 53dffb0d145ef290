/**
 * Every command, declared once: its arguments, options, one-line purpose and examples (which drive `--help`),
 * and a loader that imports the command's module only when it runs. Adding a command is adding an entry.
 * This module must stay light: no zod, undici, conf or ora here (they would slow `jimeng --version`).
 */
import type { ArgumentSpec, CommandSpec, OptionSpec } from "./command-types.js";
import {
  SUBMIT_COMMAND_OPTIONS,
  WAITING_COMMAND_OPTIONS,
  waitingCommandOptions,
} from "./generation-options.js";
import { collectDir, parseByteSize } from "./mcp-options.js";

// Kept for command modules written against the table; new code imports ./command-types.js.
export type {
  ArgumentSpec,
  CommandCall,
  CommandContext,
  CommandModule,
  CommandSpec,
  GlobalOptions,
  OptionSpec,
} from "./command-types.js";

const loadConfig = () => import("./commands/config.js");
const loadEmulate = () => import("./commands/emulate.js");
const loadModels = () => import("./commands/models.js");
const loadGenerate = () => import("./commands/generate.js");
const loadCompose = () => import("./commands/compose.js");
const loadVideo = () => import("./commands/video.js");
const loadSubmit = () => import("./commands/submit.js");
const loadResult = () => import("./commands/result.js");
const loadCancel = () => import("./commands/cancel.js");
const loadDoctor = () => import("./commands/doctor.js");
const loadServe = () => import("./commands/serve.js");
const loadWorker = () => import("./commands/worker.js");

const redisOptions = [
  {
    flags: "--redis <url>",
    description: "the shared BullMQ queue, e.g. redis://host:6379 (or JIMENG_REDIS_URL)",
  },
  { flags: "--redis-prefix <name>", description: "key prefix in Redis (default jimeng)" },
];

const promptArgument: ArgumentSpec = {
  name: "[prompt...]",
  description: "what to make (quote it, or let the words be joined); - reads it from stdin",
};

const configKeyArgument: ArgumentSpec = {
  name: "<key>",
  description: "a config key (see `jimeng config list`)",
};

/** The options every command takes, before or after its name. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flags: "--json", description: "print one JSON document on stdout (human messages go to stderr)" },
  { flags: "-q, --quiet", description: "print only errors, warnings and results" },
  { flags: "--verbose", description: "print more detail (request ids, retries, causes)" },
  { flags: "--no-color", description: "never use colours (NO_COLOR works too)" },
  {
    flags: "--provider <name>",
    description: "the provider to use (default: picked from the model, then your credentials)",
    choices: ["visual", "session", "ark"],
  },
  {
    flags: "--emulator",
    description: "start the built-in emulator and use it with demo credentials (JIMENG_EMULATOR=1)",
  },
  {
    flags: "--server <url>",
    description:
      "use a shared `jimeng serve` instead of the provider: generate, compose, video, submit, result (JIMENG_SERVER_URL)",
  },
  {
    flags: "--api-key <key>",
    description:
      "the shared service's API key; prefer JIMENG_SERVER_API_KEY (a flag shows in shell history and ps)",
  },
];

/**
 * The generation commands share their flags through generation-options.ts (declared once, from the model
 * registries' vocabulary).
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "generate",
    summary: "text-to-image (with --image: reference images); waits and downloads",
    load: loadGenerate,
    interruptible: true,
    arguments: [promptArgument],
    options: waitingCommandOptions("generate"),
    examples: [
      'jimeng generate "an orange cat under cherry blossoms, anime style" -n 1',
      'jimeng generate "a lighthouse at dusk" --ratio 16:9 --resolution 4k -o assets/',
      'jimeng generate "poster, bold type" --json --timeout 5m',
      'jimeng --emulator generate "try it offline" -o demo-output',
    ],
  },
  {
    name: "compose",
    summary: "image-to-image / multi-image composition from --image references; waits and downloads",
    load: loadCompose,
    interruptible: true,
    arguments: [promptArgument],
    options: waitingCommandOptions("compose"),
    examples: [
      'jimeng compose "make it autumn" --image photo.jpg -m jimeng_i2i_v30',
      'jimeng compose "both characters at a cafe" --image https://example.com/a.png --image https://example.com/b.png',
    ],
  },
  {
    name: "video",
    summary:
      "text-to-video, or image-to-video with --image (first frame, then last frame); waits and downloads",
    load: loadVideo,
    interruptible: true,
    arguments: [promptArgument],
    options: waitingCommandOptions("video"),
    examples: [
      'jimeng video "waves rolling onto a beach at sunset" --duration 5 --ratio 16:9',
      'jimeng video "the cat turns its head" --image first.png --duration 5 -m jimeng-i2v-3.0',
    ],
  },
  {
    name: "submit",
    summary: "submit a generate, compose or video job and print its task id at once (no waiting)",
    load: loadSubmit,
    interruptible: true,
    arguments: [
      {
        name: "<kind>",
        description: "the kind of job",
        choices: ["generate", "compose", "video"],
      },
      promptArgument,
    ],
    options: SUBMIT_COMMAND_OPTIONS,
    examples: [
      'id=$(jimeng submit generate "a red fox in snow")',
      "jimeng result $id --wait --download",
      'jimeng submit video "a paper boat on a stream" --duration 5 --json',
    ],
  },
  {
    name: "result",
    summary: "a task's status; --wait polls until it ends, --download saves its outputs",
    load: loadResult,
    interruptible: true,
    arguments: [{ name: "<task-id>", description: "the id `submit` (or a timed-out run) printed" }],
    options: [
      { flags: "--wait", description: "poll until the task ends" },
      { flags: "--download", description: "save the outputs (with --wait: once it succeeded)" },
      {
        flags: "-m, --model <name>",
        description: "the model the task was submitted with, for a task this machine did not submit",
      },
      ...WAITING_COMMAND_OPTIONS.filter((option) =>
        [
          "-o, --out <dir>",
          "--name <template>",
          "--timeout <duration>",
          "--endpoint <url>",
          "--region <region>",
        ].includes(option.flags),
      ),
      {
        flags: "--kind <kind>",
        description: "the task's kind, for a task this machine did not submit",
        choices: ["generate", "compose", "video"],
      },
    ],
    examples: [
      "jimeng result 7392616336519618328",
      "jimeng result 7392616336519618328 --wait --download -o assets/",
      "jimeng --provider visual result 7392616336519618328 --model jimeng_t2i_v40 --json",
    ],
  },
  {
    name: "cancel",
    summary:
      "cancel a task that has not started, where the provider can (Ark video); says so where it cannot",
    load: loadCancel,
    arguments: [{ name: "<task-id>", description: "the id `submit` printed" }],
    options: [
      {
        flags: "-m, --model <name>",
        description: "the model the task was submitted with, for a task this machine did not submit",
      },
      ...WAITING_COMMAND_OPTIONS.filter((option) => ["--endpoint <url>"].includes(option.flags)),
    ],
    examples: [
      "jimeng cancel cgt-20261201120000-00abc",
      "jimeng --provider ark cancel cgt-20261201120000-00abc --model seedance-1.0-pro --json",
    ],
  },
  {
    name: "tasks",
    summary: "the tasks this machine submitted, newest first: status, provider, model and the files saved",
    load: () => import("./commands/tasks.js"),
    options: [{ flags: "--limit <n>", description: "how many tasks to show", defaultValue: "20" }],
    examples: ["jimeng tasks", "jimeng tasks --limit 5 --json", "jimeng --emulator tasks"],
  },
  {
    name: "batch",
    summary: "run every job of a .jsonl / .json / .txt batch file; resumable after Ctrl-C, kill or crash",
    load: () => import("./commands/batch.js"),
    interruptible: true,
    arguments: [
      {
        name: "<file>",
        description:
          "jobs: .jsonl (one per line), .json (array or {defaults, jobs}), .txt (prompts); - reads stdin",
      },
    ],
    options: [
      {
        flags: "-c, --concurrency <n>",
        description:
          "jobs in flight at once, lowered while throttled (default 4; with --redis: jobs in the queue at once, default 64)",
      },
      { flags: "--qps <n>", description: "most submits + polls per second" },
      {
        flags: "-o, --out <dir>",
        description:
          "where files, the journal and report.json go (default ./jimeng-output; with --redis <data>/batches/<file name>)",
      },
      {
        flags: "--retries <n>",
        description: "per job, for failures safe to retry (polls, downloads); default 2",
      },
      { flags: "--dry-run", description: "validate and print the plan and estimated cost; sends nothing" },
      {
        flags: "--resume",
        description: "continue from <out>/.jimeng/journal.jsonl: poll recorded tasks, never resubmit them",
      },
      { flags: "--retry-failed", description: "with --resume: submit failed jobs again" },
      {
        flags: "--no-resubmit-uncertain",
        description: "with --resume: skip jobs whose last submit may or may not have landed",
      },
      { flags: "--timeout <duration>", description: "longest wait per job, e.g. 90s, 10m" },
      { flags: "-m, --model <name>", description: "model for jobs that name none" },
      { flags: "--endpoint <url>", description: "the chosen provider's endpoint" },
      { flags: "--region <region>", description: "Volcengine region (visual provider)" },
      ...redisOptions,
      {
        flags: "--data <dir>",
        description:
          "with --redis: the data folder every worker mounts; -o must be inside it (default ./jimeng-data)",
      },
    ],
    examples: [
      "jimeng batch jobs.jsonl -c 8 -o assets/",
      "jimeng batch jobs.jsonl --redis redis://queue:6379 --data /mnt/shared/jimeng -o /mnt/shared/jimeng/assets",
      "jimeng batch prompts.txt --dry-run",
      "jimeng batch jobs.jsonl -o assets/ --resume",
      "jimeng --json batch jobs.json --qps 5 > report.json",
    ],
  },
  {
    name: "doctor",
    summary: "check Node, config permissions, credentials (a signed probe), endpoints and session liveness",
    load: loadDoctor,
    examples: ["jimeng doctor", "jimeng doctor --json", "jimeng --emulator doctor"],
  },
  {
    name: "config",
    summary: "read and change the config store (credentials, endpoints, defaults)",
    load: loadConfig,
    examples: [
      "jimeng config set accessKeyId AKLTexample",
      "jimeng config set secretAccessKey -        # reads the secret from stdin, not your shell history",
      "jimeng config list --json",
      "jimeng config path",
    ],
    subcommands: [
      {
        name: "set",
        summary: "store a value (use - to read it from stdin)",
        arguments: [configKeyArgument, { name: "<value>", description: "the value, or - to read stdin" }],
        examples: [
          "jimeng config set region cn-north-1",
          'printf %s "$SECRET" | jimeng config set secretAccessKey -',
        ],
      },
      {
        name: "get",
        summary: "print a setting's effective value (credentials masked)",
        arguments: [configKeyArgument],
        examples: ["jimeng config get region", "jimeng config get accessKeyId --json"],
      },
      {
        name: "unset",
        summary: "remove a value from the store",
        arguments: [configKeyArgument],
        examples: ["jimeng config unset sessionId"],
      },
      {
        name: "list",
        summary: "every setting with its value and where it comes from (flag, env, config, default)",
        examples: ["jimeng config list", "jimeng config list --json"],
      },
      {
        name: "path",
        summary: "print the config file's path",
        examples: ["jimeng config path", "JIMENG_CONFIG_DIR=./.jimeng jimeng config path"],
      },
    ],
  },
  {
    name: "models",
    summary: "the models of each provider with what they accept",
    load: loadModels,
    options: [
      {
        flags: "--kind <kind>",
        description: "only models for this kind of job",
        choices: ["generate", "compose", "video"],
      },
    ],
    examples: ["jimeng models", "jimeng models --kind video", "jimeng --provider session models --json"],
  },
  {
    name: "mcp",
    summary: "serve generation, tasks, batches and models as MCP tools on stdio, for AI agents",
    load: () => import("./commands/mcp.js"),
    interruptible: true,
    options: [
      {
        flags: "-o, --out <dir>",
        description: "the only folder the tools write to (default ./jimeng-output, or the config's outDir)",
      },
      {
        flags: "--allow-dir <dir>",
        description: "a folder local input files may come from (repeatable; the output folder always is one)",
        parse: collectDir,
      },
      {
        flags: "--inline-max <size>",
        description: "largest image also returned inline to the agent, e.g. 256kb, 1mb, 0 for none",
        defaultValue: "256kb",
        parse: (value) => parseByteSize(value, "--inline-max"),
      },
      { flags: "--endpoint <url>", description: "the chosen provider's endpoint" },
      { flags: "--region <region>", description: "Volcengine region (visual provider)" },
    ],
    examples: [
      "jimeng mcp --emulator                 # try it without an account",
      "jimeng mcp -o ~/Pictures/jimeng --allow-dir ~/Pictures",
    ],
  },
  {
    name: "serve",
    summary:
      "run the shared task service: HTTP API, workers and an embedded SQLite store (--emulator: offline)",
    load: loadServe,
    interruptible: true,
    options: [
      { flags: "--port <n>", description: "port to listen on (0 picks a free one)", defaultValue: "8080" },
      { flags: "--host <address>", description: "address to bind", defaultValue: "127.0.0.1" },
      { flags: "--data <dir>", description: "jimeng.db and files/ (default ./jimeng-data)" },
      { flags: "-c, --concurrency <n>", description: "tasks the workers run at once", defaultValue: "4" },
      ...redisOptions,
      { flags: "--insecure-no-auth", description: "no API keys (the seeds' open mode); loopback only" },
      { flags: "--default-credits <n>", description: "credits of a new user", defaultValue: "10" },
      { flags: "--max-active-tasks <n>", description: "unfinished tasks per user (default 100)" },
      { flags: "--images-per-day <n>", description: "images per user per UTC day (default 2000)" },
      { flags: "--key-rate <n>", description: "requests per second per API key (default 50)" },
      { flags: "--upstream-qps <n>", description: "most submits + polls per second to the provider account" },
      {
        flags: "--retries <n>",
        description: "per task, for waits and downloads that failed in a way safe to repeat (default 2)",
      },
      {
        flags: "--no-resubmit-uncertain",
        description: "after a crash, fail tasks caught mid-submit instead of submitting them again",
      },
      {
        flags: "--drain-timeout <duration>",
        description: "on stop, how long running tasks may finish (default 30s)",
      },
      {
        flags: "--public-url <url>",
        description: "base URL of output links (default: from the Host header)",
      },
      {
        flags: "--emulator-duration <duration>",
        description: "with --emulator: how long an image takes, e.g. 50ms",
      },
      { flags: "--endpoint <url>", description: "the chosen provider's endpoint" },
      { flags: "--region <region>", description: "Volcengine region (visual provider)" },
    ],
    examples: [
      "jimeng serve --emulator",
      "jimeng serve --data /srv/jimeng --host 0.0.0.0 --port 8080 -c 8",
      "jimeng serve --emulator --insecure-no-auth --port 8080",
      "jimeng serve --redis redis://127.0.0.1:6379 --data /mnt/shared/jimeng",
    ],
  },
  {
    name: "worker",
    summary:
      "run the tasks of serve --redis and batch --redis from the shared Redis queue (any number, on any machine)",
    load: loadWorker,
    interruptible: true,
    options: [
      ...redisOptions,
      {
        flags: "--data <dir>",
        description:
          "the shared data folder: serve outputs go to <dir>/files, batch outputs to the batch's -o inside it (default ./jimeng-data)",
      },
      { flags: "-c, --concurrency <n>", description: "jobs this worker runs at once", defaultValue: "4" },
      { flags: "--upstream-qps <n>", description: "most submits + polls per second, all workers together" },
      {
        flags: "--retries <n>",
        description: "per job, for failures safe to retry (polls, downloads; never a submit)",
        defaultValue: "2",
      },
      {
        flags: "--stall-timeout <duration>",
        description: "how long a silent worker keeps its jobs before another takes them (default 30s)",
      },
      {
        flags: "--no-resubmit-uncertain",
        description: "fail jobs caught mid-submit by a dead worker instead of submitting them again",
      },
      {
        flags: "--drain-timeout <duration>",
        description: "on stop, how long running jobs may finish before going back to the queue (default 30s)",
      },
      {
        flags: "--emulator-duration <duration>",
        description: "with --emulator: how long an image takes, e.g. 50ms",
      },
      { flags: "--endpoint <url>", description: "the chosen provider's endpoint" },
      { flags: "--region <region>", description: "Volcengine region (visual provider)" },
    ],
    examples: [
      "jimeng worker --redis redis://127.0.0.1:6379 --data /mnt/shared/jimeng -c 8",
      "JIMENG_REDIS_URL=redis://queue:6379 jimeng worker --upstream-qps 10",
    ],
  },
  {
    name: "completion",
    summary: "print the shell completion script for bash, zsh or fish (commands, flags, values)",
    load: () => import("./commands/completion.js"),
    arguments: [{ name: "<shell>", description: "the shell", choices: ["bash", "zsh", "fish"] }],
    examples: [
      "source <(jimeng completion bash)        # in ~/.bashrc",
      "source <(jimeng completion zsh)         # in ~/.zshrc",
      "jimeng completion fish > ~/.config/fish/completions/jimeng.fish",
    ],
  },
  {
    name: "emulate",
    summary: "run the offline emulator of both APIs in the foreground and print its endpoints",
    load: loadEmulate,
    interruptible: true,
    options: [
      { flags: "--port <n>", description: "port to listen on (0 picks a free one)", defaultValue: "0" },
      { flags: "--host <address>", description: "address to bind", defaultValue: "127.0.0.1" },
      { flags: "--latency <duration>", description: "extra delay before every answer, e.g. 50ms" },
      { flags: "--fail-rate <0..1>", description: "share of tasks that end failed", defaultValue: "0" },
      { flags: "--seed <n>", description: "seed for reproducible faults and outputs" },
      { flags: "--image-duration <duration>", description: "how long an image task takes (default 1200ms)" },
      { flags: "--video-duration <duration>", description: "how long a video task takes (default 2500ms)" },
      {
        flags: "--time-scale <n>",
        description: "run the task clock n times faster than real time (e.g. 20 with real-world durations)",
      },
    ],
    examples: [
      "jimeng emulate --port 5100",
      "jimeng emulate --latency 50ms --fail-rate 0.1 --json",
      "jimeng emulate --image-duration 25s --video-duration 90s --time-scale 20",
    ],
  },
];
