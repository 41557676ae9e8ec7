// The Devices view's logic: the profile list grouped (classes, phones, your copies), choosing one, and copying and
// editing a profile with validation as you type (the contract's DeviceProfileSchema, the same the service applies on
// save). The form shows limits in MiB/KiB and compute in TFLOP/s; the profile stores bytes and FLOP/s.
import { computed, ref } from 'vue';
import { DeviceProfileSchema, type DeviceProfile, type ProfileEntry } from '../../../core/api/contract';
import { errorText } from '../api';
import { useProfilesStore } from '../stores/profiles';

export interface ProfileDraft {
  id: string;
  name: string;
  kind: 'class' | 'phone';
  ramGB: number;
  appBudgetMB: number;
  bindingMiB: number;
  bufferMiB: number;
  workgroupKiB: number;
  invocations: number;
  gpuName: string;
  tflopsF32: number;
  tflopsF16: number;
  bandwidthGBs: number;
  sources: string;
  notes: string;
}

const MiB = 2 ** 20;

export function draftFrom(p: DeviceProfile, copy: boolean): ProfileDraft {
  return {
    id: copy ? `${p.id}-custom` : p.id,
    name: copy ? `${p.name} (my copy)` : p.name,
    kind: p.kind,
    ramGB: p.ramGB,
    appBudgetMB: p.appBudgetMB,
    bindingMiB: p.webgpu.maxStorageBufferBindingSize / MiB,
    bufferMiB: p.webgpu.maxBufferSize / MiB,
    workgroupKiB: p.webgpu.maxComputeWorkgroupStorageSize / 1024,
    invocations: p.webgpu.maxComputeInvocationsPerWorkgroup,
    gpuName: p.gpu.name,
    tflopsF32: p.gpu.peakFlopsF32 / 1e12,
    tflopsF16: p.gpu.peakFlopsF16 / 1e12,
    bandwidthGBs: p.gpu.bandwidthGBs,
    sources: p.sources.join('\n'),
    notes: p.notes ?? '',
  };
}

export function profileFrom(d: ProfileDraft): DeviceProfile {
  const sources = d.sources.split('\n').map((s) => s.trim()).filter(Boolean);
  return {
    id: d.id.trim(),
    name: d.name.trim(),
    kind: d.kind,
    ramGB: Number(d.ramGB),
    appBudgetMB: Number(d.appBudgetMB),
    webgpu: {
      maxStorageBufferBindingSize: Math.round(Number(d.bindingMiB) * MiB),
      maxBufferSize: Math.round(Number(d.bufferMiB) * MiB),
      maxComputeWorkgroupStorageSize: Math.round(Number(d.workgroupKiB) * 1024),
      maxComputeInvocationsPerWorkgroup: Math.round(Number(d.invocations)),
    },
    gpu: { name: d.gpuName.trim(), peakFlopsF32: Number(d.tflopsF32) * 1e12, peakFlopsF16: Number(d.tflopsF16) * 1e12, bandwidthGBs: Number(d.bandwidthGBs) },
    sources,
    ...(d.notes.trim() ? { notes: d.notes.trim() } : {}),
  };
}

/** Which form field a schema path is about. */
const FIELD_OF: Record<string, keyof ProfileDraft> = {
  id: 'id', name: 'name', kind: 'kind', ramGB: 'ramGB', appBudgetMB: 'appBudgetMB',
  'webgpu.maxStorageBufferBindingSize': 'bindingMiB', 'webgpu.maxBufferSize': 'bufferMiB',
  'webgpu.maxComputeWorkgroupStorageSize': 'workgroupKiB', 'webgpu.maxComputeInvocationsPerWorkgroup': 'invocations',
  'gpu.name': 'gpuName', 'gpu.peakFlopsF32': 'tflopsF32', 'gpu.peakFlopsF16': 'tflopsF16', 'gpu.bandwidthGBs': 'bandwidthGBs',
  sources: 'sources', notes: 'notes',
};

export interface DraftIssue {
  field: keyof ProfileDraft | null;
  message: string;
}

export function draftIssues(d: ProfileDraft, builtinIds: readonly string[]): DraftIssue[] {
  const r = DeviceProfileSchema.safeParse(profileFrom(d));
  const out: DraftIssue[] = r.success
    ? []
    : r.error.issues.map((i) => {
        const path = i.path.map(String).join('.');
        const field = FIELD_OF[path] ?? FIELD_OF[path.split('.').slice(0, 1).join('.')] ?? null;
        return { field, message: `${path || 'profile'}: ${i.message}` };
      });
  if (builtinIds.includes(d.id.trim())) out.push({ field: 'id', message: `id: "${d.id}" is a built-in profile's id; give your copy its own id` });
  return out;
}

export function useDevices() {
  const profiles = useProfilesStore();
  const draft = ref<ProfileDraft | null>(null);
  const editingExisting = ref(false);
  const saveError = ref<string | null>(null);
  const saving = ref(false);

  const classes = computed(() => profiles.entries.filter((e) => e.source === 'builtin' && e.profile.kind === 'class'));
  const phones = computed(() => profiles.entries.filter((e) => e.source === 'builtin' && e.profile.kind === 'phone'));
  const mine = computed(() => profiles.entries.filter((e) => e.source === 'user'));
  const issues = computed(() => (draft.value ? draftIssues(draft.value, profiles.builtinIds) : []));
  const fieldError = (f: keyof ProfileDraft): string | null => issues.value.find((i) => i.field === f)?.message ?? null;

  function copy(e: ProfileEntry): void {
    draft.value = draftFrom(e.profile, true);
    editingExisting.value = false;
    saveError.value = null;
  }

  function edit(e: ProfileEntry): void {
    draft.value = draftFrom(e.profile, e.source === 'builtin');
    editingExisting.value = e.source === 'user';
    saveError.value = null;
  }

  function cancel(): void {
    draft.value = null;
    saveError.value = null;
  }

  async function save(): Promise<boolean> {
    if (!draft.value || issues.value.length) return false;
    saving.value = true;
    try {
      await profiles.save(profileFrom(draft.value));
      draft.value = null;
      saveError.value = null;
      return true;
    } catch (e) {
      saveError.value = `Could not save the profile: ${errorText(e)}`;
      return false;
    } finally {
      saving.value = false;
    }
  }

  async function remove(id: string): Promise<void> {
    try {
      await profiles.remove(id);
    } catch (e) {
      saveError.value = `Could not delete ${id}: ${errorText(e)}`;
    }
  }

  return { profiles, classes, phones, mine, draft, editingExisting, issues, fieldError, saveError, saving, copy, edit, cancel, save, remove };
}
