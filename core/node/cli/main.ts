// The `mesp` command line: the same service the app uses, for scripts and servers. Exit codes: 0 ok, 1 unexpected
// error, 2 usage, 3 memory budget exceeded (OutOfBudgetError), 4 no WebGPU adapter, 5 bad input file or setting.
import { errorMessage, ConfigError, DataError, FormatError, GpuUnavailableError, MespError, OutOfBudgetError, ShapeError } from '../../common/errors';
import { UsageError } from './args';
import { DEMO_HELP, DEMO_RUN_HELP, EVAL_HELP, PROFILES_HELP, cmdDemo, cmdDemoModel, cmdEval, cmdProfiles } from './cmd-basic';
import { TRAIN_HELP, cmdTrain } from './cmd-train';
import { EXPORT_HELP, IMPORT_HELP, cmdExport, cmdImportAdapter } from './cmd-export';
import { BENCH_HELP, cmdBench } from './cmd-bench';
import { GRADS_HELP, cmdGrads } from './cmd-grads';
import { CHAT_HELP, GENERATE_HELP, cmdChat, cmdGenerate } from './cmd-generate';

export const EXIT = { ok: 0, error: 1, usage: 2, outOfBudget: 3, noGpu: 4, badInput: 5 } as const;

interface Command {
  /** One line for `mesp --help`. */
  summary: string;
  help: string;
  run(argv: string[]): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'write the demo model, fine-tune it with MeSP under a phone cap, evaluate before and after', help: DEMO_RUN_HELP, run: cmdDemo },
  eval: { summary: 'per-row loss, mean, perplexity and peak memory by category of a dataset', help: EVAL_HELP, run: cmdEval },
  train: { summary: 'train a LoRA adapter with full, mebp, mesp or mezo under a profile\'s cap', help: TRAIN_HELP, run: cmdTrain },
  grads: { summary: 'one row\'s LoRA gradients; --compare the methods and MeZO\'s cosine', help: GRADS_HELP, run: cmdGrads },
  generate: { summary: 'generate a reply with the KV cache, an adapter applied unmerged; tokens/s and peak memory', help: GENERATE_HELP, run: cmdGenerate },
  chat: { summary: 'chat in the terminal through the chat template, with an adapter or a run', help: CHAT_HELP, run: cmdChat },
  bench: { summary: 'the paper\'s memory table on real Qwen2.5 shapes: memory, time, FLOP/s', help: BENCH_HELP, run: cmdBench },
  profiles: { summary: 'the device profiles: RAM, app budget (the cap), WebGPU limits, GPU compute', help: PROFILES_HELP, run: cmdProfiles },
  'demo-model': { summary: 'write the embedded demo model (and dataset) to a folder', help: DEMO_HELP, run: cmdDemoModel },
  export: { summary: 'a deployment bundle: PEFT, GGUF LoRA (llama.cpp), MLX, merged ONNX', help: EXPORT_HELP, run: cmdExport },
  'import-adapter': { summary: 'read an exported adapter back as a PEFT folder (--init-adapter)', help: IMPORT_HELP, run: cmdImportAdapter },
};

export function registerCommand(name: string, c: Command): void {
  COMMANDS[name] = c;
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
    'Exit codes: 0 ok, 1 error, 2 usage, 3 memory budget exceeded, 4 no WebGPU adapter, 5 bad input.',
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
    console.log('mesp 0.1.0');
    return EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`mesp: unknown command "${name}".\n\n${usage()}`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.help);
    return EXIT.ok;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    const code = exitCodeOf(e);
    const msg = errorMessage(e);
    console.error(`mesp ${name}: ${msg}`);
    if (code === EXIT.error && e instanceof Error && e.stack && process.env.MESP_DEBUG) console.error(e.stack);
    return code;
  }
}
