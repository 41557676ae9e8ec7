// The `mesp` command line: the same service the app uses, for scripts and servers. Exit codes: 0 ok, 1 unexpected
// error, 2 usage, 3 memory budget exceeded (OutOfBudgetError), 4 no WebGPU adapter, 5 bad input file or setting,
// 130 stopped by Ctrl-C or SIGTERM (`mesp train`, after a checkpoint). Every command's flags and --help come from its
// zod schemas (core/node/cli/flags.ts); main prints an error once, as `mesp <command>: <message>`.
import { APP_VERSION } from '../../api/names';
import { errorMessage, ConfigError, DataError, FormatError, GpuUnavailableError, MespError, OutOfBudgetError, ShapeError } from '../../common/errors';
import { DEMO, DEMO_MODEL, EVAL, PROFILES, cmdDemo, cmdDemoModel, cmdEval, cmdProfiles } from './cmd-basic';
import { TRAIN, cmdTrain } from './cmd-train';
import { EXPORT, IMPORT, cmdExport, cmdImportAdapter } from './cmd-export';
import { BENCH_HELP, cmdBench } from './cmd-bench';
import { GRADS, cmdGrads } from './cmd-grads';
import { CHAT, GENERATE, cmdChat, cmdGenerate } from './cmd-generate';
import { MODELS, PULL, cliPullReporter, cmdModels, cmdPull } from './cmd-hub';
import { setDefaultPullListener } from '../hub/resolve';
import { LLAMA_BENCH, cmdLlamaBench } from './cmd-llama';
import { UsageError, closest } from './flags';

export const EXIT = { ok: 0, error: 1, usage: 2, outOfBudget: 3, noGpu: 4, badInput: 5 } as const;

interface Command {
  /** One line for `mesp --help`. */
  summary: string;
  help: string;
  run(argv: string[]): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'write the demo model, fine-tune it with MeSP under a phone cap, evaluate before and after', help: DEMO.help, run: cmdDemo },
  eval: { summary: 'per-row loss, mean, perplexity and peak memory by category of a dataset', help: EVAL.help, run: cmdEval },
  train: { summary: 'train a LoRA adapter with full, mebp, mesp or mezo under a profile\'s cap', help: TRAIN.help, run: cmdTrain },
  grads: { summary: 'one row\'s LoRA gradients; --compare the methods and MeZO\'s cosine', help: GRADS.help, run: cmdGrads },
  generate: { summary: 'generate a reply with the KV cache, an adapter applied unmerged; tokens/s and peak memory', help: GENERATE.help, run: cmdGenerate },
  chat: { summary: 'chat in the terminal through the chat template, with an adapter or a run', help: CHAT.help, run: cmdChat },
  bench: { summary: 'the paper\'s memory table on real Qwen2.5 shapes: memory, time, FLOP/s', help: BENCH_HELP, run: cmdBench },
  profiles: { summary: 'the device profiles: RAM, app budget (the cap), WebGPU limits, GPU compute', help: PROFILES.help, run: cmdProfiles },
  'demo-model': { summary: 'write the embedded demo model (and dataset), or a real Qwen2.5 shape, to a folder', help: DEMO_MODEL.help, run: cmdDemoModel },
  export: { summary: 'a deployment bundle: PEFT, GGUF LoRA/base/merged (llama.cpp, Ollama), MLX, merged ONNX, merged safetensors', help: EXPORT.help, run: cmdExport },
  'llama-bench': { summary: 'llama.cpp\'s prompt and decode tokens/s for an exported GGUF, on the CPU', help: LLAMA_BENCH.help, run: cmdLlamaBench },
  'import-adapter': { summary: 'read an exported adapter back as a PEFT folder (--init-adapter)', help: IMPORT.help, run: cmdImportAdapter },
  pull: { summary: 'download a Qwen2 model (or a dataset\'s jsonl) from the Hugging Face Hub into the HF cache', help: PULL.help, run: cmdPull },
  models: { summary: 'the models in the Hugging Face cache: revision, size, complete or not', help: MODELS.help, run: cmdModels },
};

/** The help text of a command (tests read `mesp train --help` through it too). */
export function helpOf(name: string): string | null {
  return COMMANDS[name]?.help ?? null;
}

function usage(): string {
  return [
    'mesp — fine-tune Qwen2.5 models with LoRA on WebGPU under a phone\'s memory cap (MeSP Studio).',
    '',
    'Usage: mesp <command> [flags]      mesp <command> --help',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`),
    '',
    '--model takes a folder or a hub id OWNER/NAME[@REV] (pulled into the Hugging Face cache on first use, see `mesp pull --help`);',
    '--data a jsonl file or hf://datasets/OWNER/NAME[@REV]/PATH.jsonl.',
    '',
    'Exit codes: 0 ok, 1 error, 2 usage, 3 memory budget exceeded, 4 no WebGPU adapter, 5 bad input, 130 stopped (Ctrl-C).',
  ].join('\n');
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof UsageError) return EXIT.usage;
  if (e instanceof OutOfBudgetError) return EXIT.outOfBudget;
  if (e instanceof GpuUnavailableError) return EXIT.noGpu;
  if (e instanceof FormatError || e instanceof ConfigError || e instanceof DataError || e instanceof ShapeError) return EXIT.badInput;
  if (e instanceof MespError) return EXIT.error;
  return EXIT.error;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return EXIT.ok;
  }
  if (name === '--version') {
    console.log(`mesp ${APP_VERSION}`);
    return EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    const near = closest(name, Object.keys(COMMANDS));
    console.error(`mesp: unknown command "${name}"${near ? `; did you mean \`mesp ${near}\`?` : ''}\n\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return EXIT.ok;
  }
  setDefaultPullListener(cliPullReporter()); // a --model OWNER/NAME pulled on first use shows its progress
  try {
    return await cmd.run(rest);
  } catch (e) {
    const code = exitCodeOf(e);
    const msg = errorMessage(e).replace(new RegExp(`^(mesp ${name}: )+`), '');
    console.error(`mesp ${name}: ${msg}${code === EXIT.usage ? ` (see \`mesp ${name} --help\`)` : ''}`);
    if (code === EXIT.error && e instanceof Error && e.stack && process.env.MESP_DEBUG) console.error(e.stack);
    return code;
  }
}
