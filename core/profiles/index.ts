// Device profiles (DESIGN.md §6): the schema, the budget and roofline math, and the built-in profiles.
export * from './schema';
export { DEFAULT_PROFILE_ID, getProfile, isBuiltinProfileId, listBuiltinProfiles } from './builtin';
export { ROOFLINE_ASSUMPTIONS, projectOnProfiles, projectStep, type KernelCost, type StepProjection } from './roofline';
