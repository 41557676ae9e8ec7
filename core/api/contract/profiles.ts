// The contract's device-profile domain (core/api/contract.ts): a built-in or user profile with its cap, and the
// issues of a profile that does not validate (core/profiles/schema.ts). Pure TS.
import { z } from 'zod';
import { DeviceProfileSchema } from '../../profiles/schema';

export { capOverrideIssue, ramBytesOf } from '../../profiles/schema';

export const ProfileEntrySchema = z.object({
  profile: DeviceProfileSchema,
  source: z.enum(['builtin', 'user']),
  /** The JSON file of a user copy. */
  path: z.string().nullable(),
  capBytes: z.number(),
});
export type ProfileEntry = z.infer<typeof ProfileEntrySchema>;

export const ProfileIssueSchema = z.object({ path: z.string(), message: z.string() });
export type ProfileIssue = z.infer<typeof ProfileIssueSchema>;
