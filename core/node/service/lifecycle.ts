// The run lifecycle, one for every way a run is started: `mesp train` (core/node/cli/cmd-train.ts), the app's
// runs.start / runs.resume (handlers-runs.ts, through HostState.launch) and each method of a comparison
// (handlers-compare.ts). A RunControl pauses, resumes and stops a job between steps (the trainer awaits its gate),
// and its stop also aborts what comes before the first step (a hub pull on first use, core/node/hub/resolve.ts);
// launchRun starts runTrain in the background under a control and resolves once the run has begun, so a request that
// fails before it exists (a bad dataset row, a missing file) is an error to the caller, and everything after is in
// the run's events and its folder (core/node/runstore.ts).
import type { RunStatus } from '../../api/contract';
import type { RunEvent, TrainRequest } from '../../api/train';
import type { JobEnv } from './context';
import { runTrain, type TrainOutcome } from './train';

/** Pause, resume and stop between steps; every change of state is reported. */
export class RunControl {
  status: RunStatus = 'running';
  private paused = false;
  private stopping = false;
  private wake: (() => void) | null = null;
  private readonly halt = new AbortController();

  constructor(private readonly onStatus: (s: RunStatus) => void = () => {}) {}

  get stopRequested(): boolean {
    return this.stopping;
  }

  /** Aborted by stop(): what a job does before its first step (a hub pull on first use) ends there, keeping its bytes. */
  get signal(): AbortSignal {
    return this.halt.signal;
  }

  private set(s: RunStatus): void {
    if (this.status === s) return;
    this.status = s;
    this.onStatus(s);
  }

  /** Hold before the next step (the step in flight finishes). */
  pause(): RunStatus {
    if (!this.stopping) {
      this.paused = true;
      this.set('paused');
    }
    return this.status;
  }

  resume(): RunStatus {
    this.paused = false;
    this.wake?.();
    if (this.status === 'paused') this.set('running');
    return this.status;
  }

  /** End after the step in flight, with a checkpoint. Asking again changes nothing. */
  stop(): RunStatus {
    this.stopping = true;
    this.halt.abort();
    this.wake?.();
    this.set('stopping');
    return this.status;
  }

  /** What the trainer awaits between steps: 'run' to go on (later, when paused), 'stop' to end cleanly. */
  readonly gate = async (): Promise<'run' | 'stop'> => {
    while (this.paused && !this.stopping) {
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
    return this.stopping ? 'stop' : 'run';
  };
}

export interface LaunchedRun {
  control: RunControl;
  /** The run's outcome: its steps done and why it ended; rejects with the run's error. */
  outcome: Promise<TrainOutcome>;
}

/**
 * Start a run (or resume one) in the background. Resolves once the run has begun (its first event); rejects when it
 * fails before that (nothing ran, and a new run left no folder).
 */
export async function launchRun(o: {
  input: TrainRequest | { resume: string };
  env?: JobEnv;
  control?: RunControl;
  onEvent?: (e: RunEvent) => void;
}): Promise<LaunchedRun> {
  const control = o.control ?? new RunControl();
  let begun!: () => void;
  let sawEvent = false;
  const started = new Promise<void>((r) => (begun = r));
  const outcome = runTrain(o.input, { ...o.env, signal: control.signal }, (e) => {
    sawEvent = true;
    o.onEvent?.(e);
    begun();
  }, control.gate);
  try {
    await Promise.race([started, outcome]);
  } catch (e) {
    if (!sawEvent) throw e;
  }
  outcome.catch(() => undefined); // the caller follows the run through its events; an unawaited failure is no crash
  return { control, outcome };
}
