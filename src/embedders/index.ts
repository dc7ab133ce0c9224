export type { Embedder } from '../core/embedding/embedder.js';
export { type OpenAIEmbedderOptions, openAIEmbedder } from './openai.js';
export {
  type FeatureExtractor,
  type FeatureTensor,
  type TransformersEmbedderOptions,
  transformersEmbedder,
} from './transformers.js';
export { type WorkersAIEmbedderOptions, type WorkersAiBinding, workersAIEmbedder } from './workers-ai.js';
