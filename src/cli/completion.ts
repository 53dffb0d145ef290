/**
 * Shell completion scripts generated from the command table: command names, subcommands, each command's
 * flags (those its help lists) and the global options, and the fixed values of flags and arguments that have
 * choices. Pure: `completionScript(shell)` returns the text `jimeng completion <shell>` prints.
 */
import { COMMANDS, GLOBAL_OPTIONS } from "./command-table.js";
import type { CommandSpec, OptionSpec } from "./command-types.js";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** The flags of an option as typed: "-o, --out <dir>" → ["-o", "--out"]. */
function flagWords(option: OptionSpec): string[] {
  return option.flags
    .split(/[ ,]+/)
    .filter((word) => word.startsWith("-"))
    .map((word) => word.replace(/[<[].*$/, ""));
}

function visible(options: readonly OptionSpec[] | undefined): OptionSpec[] {
  return (options ?? []).filter((option) => !option.hidden);
}

/** Values a flag or argument takes: its choices, in one list per flag word. */
function choiceMap(spec: CommandSpec): Map<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  for (const option of [...visible(spec.options), ...GLOBAL_OPTIONS]) {
    if (option.choices) for (const word of flagWords(option)) map.set(word, option.choices);
  }
  return map;
}

function words(spec: CommandSpec): string[] {
  return [
    ...(spec.subcommands ?? []).map((sub) => sub.name),
    ...[...visible(spec.options), ...GLOBAL_OPTIONS].flatMap(flagWords),
    "--help",
  ];
}

/** Single-quoted for a shell script. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function bash(): string {
  const globals = [...GLOBAL_OPTIONS.flatMap(flagWords), "--help", "--version"];
  const cases = COMMANDS.map((spec) => {
    const choices = [...choiceMap(spec)]
      .map(([flag, values]) => `        ${flag}) values=${quoted(values.join(" "))} ;;`)
      .join("\n");
    const argumentChoices = spec.arguments?.find((argument) => argument.choices)?.choices;
    // A flag that takes a free value (a path, a number): no words, so the shell completes file names.
    const valued = [...visible(spec.options), ...GLOBAL_OPTIONS]
      .filter((option) => /[<[]/.test(option.flags) && !option.choices)
      .flatMap(flagWords);
    return [
      `    ${spec.name})`,
      `      case "$prev" in`,
      ...(choices ? [choices] : []),
      ...(valued.length ? [`        ${valued.join("|")}) values="" ;;`] : []),
      `        *) values=${quoted(words(spec).join(" "))}`,
      ...(argumentChoices
        ? [`           [ "$cword" -eq 2 ] && values="${argumentChoices.join(" ")} $values"`]
        : []),
      "           ;;",
      "      esac",
      "      ;;",
    ].join("\n");
  }).join("\n");
  return `# jimeng completion for bash: add to ~/.bashrc
#   source <(jimeng completion bash)
_jimeng() {
  local cur prev words cword command values i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cword=$COMP_CWORD
  command=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${GLOBAL_OPTIONS.filter((option) => /[<[]/.test(option.flags))
        .flatMap(flagWords)
        .join("|")}) i=$((i + 1)) ;;
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$command" in
    "") values=${quoted([...COMMANDS.map((spec) => spec.name), ...globals].join(" "))}
        [ "$prev" = "--provider" ] && values=${quoted((GLOBAL_OPTIONS.find((o) => o.flags.startsWith("--provider"))?.choices ?? []).join(" "))} ;;
${cases}
  esac
  COMPREPLY=($(compgen -W "$values" -- "$cur"))
  case "$cur" in -*) ;; *) [ "\${#COMPREPLY[@]}" -eq 0 ] && compopt -o default 2>/dev/null ;; esac
  return 0
}
complete -F _jimeng jimeng
`;
}

function zsh(): string {
  return `# jimeng completion for zsh: add to ~/.zshrc
#   source <(jimeng completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bash()
  .split("\n")
  .filter((line) => !line.startsWith("#"))
  .join("\n")}`;
}

function fish(): string {
  const lines = [
    "# jimeng completion for fish: save as ~/.config/fish/completions/jimeng.fish",
    "#   jimeng completion fish > ~/.config/fish/completions/jimeng.fish",
    "complete -c jimeng -f",
  ];
  const option = (condition: string, spec: OptionSpec) => {
    const parts = [`complete -c jimeng -n ${quoted(condition)}`];
    for (const word of flagWords(spec)) {
      parts.push(word.startsWith("--") ? `-l ${word.slice(2)}` : `-s ${word.slice(1)}`);
    }
    if (/[<[]/.test(spec.flags)) parts.push("-r");
    if (spec.choices) parts.push(`-a ${quoted(spec.choices.join(" "))}`);
    parts.push(`-d ${quoted(spec.description)}`);
    return parts.join(" ");
  };
  for (const spec of GLOBAL_OPTIONS) lines.push(option("true", spec));
  for (const spec of COMMANDS) {
    lines.push(`complete -c jimeng -n '__fish_use_subcommand' -a ${spec.name} -d ${quoted(spec.summary)}`);
    const within = `__fish_seen_subcommand_from ${spec.name}`;
    for (const sub of spec.subcommands ?? []) {
      lines.push(`complete -c jimeng -n ${quoted(within)} -a ${sub.name} -d ${quoted(sub.summary)}`);
    }
    for (const argument of spec.arguments ?? []) {
      if (argument.choices)
        lines.push(`complete -c jimeng -n ${quoted(within)} -a ${quoted(argument.choices.join(" "))}`);
    }
    for (const flag of visible(spec.options)) lines.push(option(within, flag));
  }
  return `${lines.join("\n")}\n`;
}

/** Pure: the completion script for `shell`. */
export function completionScript(shell: Shell): string {
  if (shell === "bash") return bash();
  if (shell === "zsh") return zsh();
  return fish();
}
