// Device profiles: the built-in classes and phones and the user's saved copies (profiles.list), which one is chosen
// (remembered across launches), and saving or deleting copies. The chosen profile's budget is every run's cap.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { DEFAULT_PROFILE_ID, type ProfileEntry } from '../../../core/api/contract';
import { getClient, trackCall } from '../api';

const KEY = 'mesp.profile';
const remembered = (): string => {
  try {
    return localStorage.getItem(KEY) ?? DEFAULT_PROFILE_ID;
  } catch {
    return DEFAULT_PROFILE_ID;
  }
};

export const useProfilesStore = defineStore('profiles', () => {
  const entries = ref<ProfileEntry[]>([]);
  const selectedId = ref<string>(remembered());
  const loading = ref(false);
  const error = ref<string | null>(null);

  const selected = computed(() => entries.value.find((e) => e.profile.id === selectedId.value) ?? null);
  const capBytes = computed(() => selected.value?.capBytes ?? null);
  const builtinIds = computed(() => entries.value.filter((e) => e.source === 'builtin').map((e) => e.profile.id));

  async function load(): Promise<void> {
    const apply = (r: { profiles: ProfileEntry[] }): void => {
      entries.value = r.profiles;
      if (!entries.value.some((e) => e.profile.id === selectedId.value)) selectedId.value = DEFAULT_PROFILE_ID;
    };
    await trackCall(loading, error, () => getClient().call('profiles.list', {}), apply, 'Could not load the device profiles: ');
  }

  function select(id: string): void {
    selectedId.value = id;
    try {
      localStorage.setItem(KEY, id);
    } catch {
      // private mode: the choice lasts for this session
    }
  }

  /** Save a user copy (validated again by the service); selects it. Throws the service's error. */
  async function save(profile: unknown): Promise<ProfileEntry> {
    const { entry } = await getClient().call('profiles.save', { profile });
    await load();
    select(entry.profile.id);
    return entry;
  }

  async function remove(id: string): Promise<void> {
    await getClient().call('profiles.delete', { id });
    if (selectedId.value === id) select(DEFAULT_PROFILE_ID);
    await load();
  }

  return { entries, selectedId, loading, error, selected, capBytes, builtinIds, load, select, save, remove };
});
