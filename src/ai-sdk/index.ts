export { type MemoryToolsOptions, memoryTools, type RecalledMemory } from './memory-tools.js';
