// Opening what a job needs, shared by every service call: the model and data references (resolveInputs: a local path,
// or a hub id pulled into the HF cache on first use), the device profile, the GPU context under the profile's limits
// and cap, the model folder and its weights. One path for the CLI, the app and the tests.
import { GpuContext, type GpuProvider } from '../../gpu/context';
import { loadModelWeights, type ModelWeights, type Quant } from '../../model/weights';
import { capBytesOf, type DeviceProfile } from '../../profiles/schema';
import { dawnProvider } from '../dawn';
import { resolveInputs } from '../hub/resolve';
import type { HubOverrides } from '../hub/settings';
import { openModelFolder, type ModelFolder } from '../modelfiles';
import { loadProfile } from '../profiles';

export interface JobEnv {
  /** Where the GPU comes from (Dawn by default). */
  provider?: GpuProvider;
  /** Overrides the profile's cap (tests and the "force a small cap" path). */
  capBytes?: number;
  /** The hub and its cache (else from HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE). */
  hub?: HubOverrides;
  /** Stops the job's downloads (a hub pull on first use; its bytes stay for the next one): the run lifecycle's stop. */
  signal?: AbortSignal;
}

export async function openContext(profile: DeviceProfile, env: JobEnv = {}): Promise<GpuContext> {
  return GpuContext.open(env.provider ?? dawnProvider, {
    limits: { ...profile.webgpu },
    capBytes: env.capBytes ?? capBytesOf(profile),
    label: `mesp:${profile.id}`,
  });
}

export interface LoadedModel {
  folder: ModelFolder;
  weights: ModelWeights;
}

/** Load a model folder's weights into the context, quantizing on the way. */
export function loadModel(ctx: GpuContext, folder: ModelFolder, quant: Quant): ModelWeights {
  return loadModelWeights(ctx, folder.config, quant, (name) => folder.read(name));
}

export { loadProfile, openModelFolder, resolveInputs };
