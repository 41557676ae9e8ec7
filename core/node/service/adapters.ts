// Reading a PEFT adapter folder from disk (adapter_config.json + adapter_model.safetensors) and fitting it to a model.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../common/errors';
import { readPeft } from '../../export/peft';
import type { Qwen2Config } from '../../model/config';
import { checkAdapterFits, type HostAdapter } from '../../train/lora';

export function loadAdapterFolder(dirIn: string, cfg: Qwen2Config): HostAdapter & { baseModel: string } {
  const dir = resolve(dirIn);
  const config = join(dir, 'adapter_config.json');
  const weights = join(dir, 'adapter_model.safetensors');
  for (const f of [config, weights]) {
    if (!existsSync(f)) throw new ConfigError(`${f} does not exist: an adapter folder holds adapter_config.json and adapter_model.safetensors (PEFT)`, { file: f, field: 'adapter' });
  }
  const a = readPeft(readFileSync(config, 'utf8'), new Uint8Array(readFileSync(weights)), { config, weights });
  checkAdapterFits(cfg, a, dir);
  return a;
}
