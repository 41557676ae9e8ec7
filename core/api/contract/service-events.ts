// The contract's events (core/api/contract.ts): what the service sends every client unasked — a run's events and
// status, a comparison's events, a hub pull's events, and the service's own state (ready, down, restarted). Pure TS.
import { z } from 'zod';
import { RunEventSchema } from '../train';
import { CompareEventSchema } from './compare';
import { PullEventSchema } from './hub';
import { RunStatusSchema } from './runs';

export const ServiceEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), runId: z.string(), event: RunEventSchema }),
  z.object({ type: z.literal('run.status'), runId: z.string(), status: RunStatusSchema }),
  z.object({ type: z.literal('compare'), compareId: z.string(), event: CompareEventSchema }),
  /** A model or dataset pull from the hub (hub.pull): plan, progress, retries, each verified file, the end. */
  z.object({ type: z.literal('hub.pull'), pullId: z.string(), event: PullEventSchema }),
  /** The service's own state, as main or the WebSocket client sees it (a restarted service lost its live runs). */
  z.object({ type: z.literal('service'), state: z.enum(['ready', 'down', 'restarted']), message: z.string() }),
]);
export type ServiceEvent = z.infer<typeof ServiceEventSchema>;
